// Query.node / Query.nodes, replacing plugin-relay's own: an undecodable id, an id of another type and another
// user's id all answer null, exactly like an unknown id (the loaders only return the viewer's rows).
import { resolveNodes } from '@pothos/plugin-relay';
import { builder } from './builder.ts';
import { decodeNodeId } from './global-id.ts';
import { badUserInput } from './request-errors.ts';

const MAX_NODES = 100;

builder.queryFields((t) => ({
  node: t.field({
    type: builder.nodeInterfaceRef(),
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, context, info) => {
      const [node] = await resolveNodes(builder, context, info, [decodeNodeId(id)]);
      return (node ?? null) as never;
    },
  }),
  nodes: t.field({
    type: [builder.nodeInterfaceRef()],
    nullable: { list: false, items: true },
    description: `Up to ${MAX_NODES} nodes by id, in the order asked; null for each unknown id.`,
    args: { ids: t.arg.idList({ required: true }) },
    resolve: async (_root, { ids }, context, info) => {
      if (ids.length > MAX_NODES) {
        throw badUserInput(`Argument "ids" may hold at most ${MAX_NODES} ids`);
      }
      const nodes = await resolveNodes(builder, context, info, ids.map(decodeNodeId));
      return nodes.map((node) => node ?? null) as never;
    },
  }),
}));
