// Builds the schema: every area registers its own types and fields on the builder when imported.
import { builder } from './builder.ts';
import './scalars.ts';
import './enums.ts';
import './errors.ts';
import './audio-asset.ts';
import './video-asset.ts';
import './video-job.ts';
import './video-jobs.ts';
import './video-job-mutations.ts';
import './node.ts';
import './video-model.ts';
import './viewer.ts';
import './subscriptions.ts';

export const schema = builder.toSchema({ sortSchema: false });
