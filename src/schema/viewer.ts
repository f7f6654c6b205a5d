// Query.viewer: the authenticated user and their quota.
import type { User } from '../store/store.ts';
import { builder } from './builder.ts';
import { toGlobalId } from './global-id.ts';

const Viewer = builder.objectRef<User>('Viewer').implement({
  fields: (t) => ({
    id: t.id({ resolve: (user) => toGlobalId('User', user.id) }),
    name: t.exposeString('name'),
    activeJobs: t.int({
      description: 'Jobs of the viewer not yet in a terminal state.',
      resolve: (user, _args, context) => context.services.store.countActiveJobs(user.id),
    }),
    maxActiveJobs: t.int({
      description: 'Most jobs the viewer may have not yet finished.',
      resolve: (_user, _args, context) => context.services.config.maxActiveJobsPerUser,
    }),
  }),
});

builder.queryField('viewer', (t) => t.field({ type: Viewer, resolve: (_root, _args, context) => context.viewer }));
