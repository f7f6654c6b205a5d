// The one SchemaBuilder: type parameters, plugins and their options. Types and fields live in one file per area
// beside this one; src/schema/index.ts imports them all and builds the schema.
//
// Options chosen to match the public contract (STACK.md §3b): non-null output fields by default, error result
// unions named `<Field>Result` with the success type as a direct member, String cursors, and the plugin-relay
// `node`/`nodes` root fields replaced by tenancy-aware ones (src/schema/node.ts).
import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ValidationPlugin from '@pothos/plugin-validation';
import type { GraphQLContext } from './context.ts';
import { ValidationError, fieldErrorsFromIssues } from './error-classes.ts';

/** A file of a GraphQL multipart request, as yoga hands it over (a WHATWG File). */
export interface UploadedFile {
  name: string;
  type: string;
  size: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface PothosTypes {
  Context: GraphQLContext;
  AuthScopes: { viewer: boolean };
  Scalars: {
    /** Epoch milliseconds inside, ISO 8601 UTC with milliseconds on the wire. */
    DateTime: { Input: number; Output: number };
    File: { Input: UploadedFile; Output: never };
    ID: { Input: string; Output: string };
  };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: { list: false; items: true };
  DefaultNodeNullability: false;
}

export const builder = new SchemaBuilder<PothosTypes>({
  // Order per the plugins' docs: auth first, errors before dataloader.
  plugins: [ScopeAuthPlugin, ErrorsPlugin, ValidationPlugin, RelayPlugin, DataloaderPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (context) => ({ viewer: Boolean(context.viewer) }),
    authorizeOnSubscribe: true,
  },
  errors: {
    directResult: true,
    defaultUnionOptions: {
      name: ({ fieldName }) => `${fieldName[0]!.toUpperCase()}${fieldName.slice(1)}Result`,
    },
    // Input validation failures become the ValidationError member of the field's result union.
    // (No `defaultTypes`: a base Error there would turn any internal error into data and bypass masking.)
    unsafelyHandleInputErrors: true,
  },
  validation: {
    validationError: (failure) => new ValidationError(fieldErrorsFromIssues(failure.issues)),
  },
  relay: {
    cursorType: 'String',
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    edgesFieldOptions: { nullable: { list: false, items: true } },
    nodeFieldOptions: { nullable: false },
  },
});

builder.queryType({ authScopes: { viewer: true } });
builder.mutationType({ authScopes: { viewer: true } });
builder.subscriptionType({ authScopes: { viewer: true } });
