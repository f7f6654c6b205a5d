// Limits that refuse an operation before any resolver runs (CONTRACT.md §7): tokens (in the parser), depth and
// aliases (validation rules), introspection and field suggestions off in production. They apply to HTTP and
// graphql-ws alike, since both go through the same envelop plugins.
import {
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  parse,
  type ASTNode,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';

export interface OperationLimits {
  maxTokens: number;
  maxDepth: number;
  maxAliases: number;
}

export const DEFAULT_LIMITS: OperationLimits = { maxTokens: 2000, maxDepth: 10, maxAliases: 15 };

function limitError(message: string, node: ASTNode) {
  return new GraphQLError(message, { nodes: [node], extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
}

/** Depth of nested selections, following fragments; introspection fields (`__schema`, `__type`) do not count. */
function depthOf(
  selectionSet: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  visiting: Set<string>,
): number {
  let deepest = 0;
  for (const selection of selectionSet.selections) {
    let depth = 0;
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value.startsWith('__')) continue;
      depth = selection.selectionSet ? 1 + depthOf(selection.selectionSet, fragments, visiting) : 1;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      depth = depthOf(selection.selectionSet, fragments, visiting);
    } else {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      if (!fragment || visiting.has(name)) continue; // unknown or cyclic: the standard rules report those
      visiting.add(name);
      depth = depthOf(fragment.selectionSet, fragments, visiting);
      visiting.delete(name);
    }
    deepest = Math.max(deepest, depth);
  }
  return deepest;
}

export function maxDepthRule(maxDepth: number) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map(
      context
        .getDocument()
        .definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
        .map((d) => [d.name.value, d]),
    );
    return {
      OperationDefinition(operation) {
        const depth = depthOf(operation.selectionSet, fragments, new Set());
        if (depth > maxDepth) {
          context.reportError(limitError(`Operation is ${depth} levels deep; at most ${maxDepth} are allowed`, operation));
        }
      },
    };
  };
}

/** Aliases in the whole document (every operation and fragment): each one may multiply the work. */
export function maxAliasesRule(maxAliases: number) {
  return (context: ValidationContext): ASTVisitor => {
    let aliases = 0;
    return {
      Field(field) {
        if (field.alias && field.alias.value !== '__typename') aliases++;
      },
      Document: {
        leave(document) {
          if (aliases > maxAliases) {
            context.reportError(limitError(`Operation uses ${aliases} aliases; at most ${maxAliases} are allowed`, document));
          }
        },
      },
    };
  };
}

const SUGGESTION = /\s*Did you mean .+\?$/;

function withoutSuggestion(error: unknown): unknown {
  if (!(error instanceof GraphQLError) || !SUGGESTION.test(error.message)) return error;
  return new GraphQLError(error.message.replace(SUGGESTION, ''), {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  });
}

export function useOperationLimits(options: { limits?: OperationLimits; production: boolean }): Plugin {
  const limits = options.limits ?? DEFAULT_LIMITS;
  return {
    onParse({ setParseFn }) {
      setParseFn((source, parseOptions) => parse(source, { ...parseOptions, maxTokens: limits.maxTokens }));
    },
    onValidate({ addValidationRule }) {
      addValidationRule(maxDepthRule(limits.maxDepth));
      addValidationRule(maxAliasesRule(limits.maxAliases));
      if (options.production) addValidationRule(NoSchemaIntrospectionCustomRule);
      if (!options.production) return;
      return ({ result, setResult }) => {
        if (result.length > 0) setResult(result.map(withoutSuggestion));
      };
    },
  };
}
