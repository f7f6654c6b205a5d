// Operation limits (CONTRACT.md §7) from GraphQL Armor: tokens (counted by the parser, which stops at the limit),
// depth, aliases, directives and cost (validation rules). Validation runs before the context is built, so an
// over-limit operation is refused before any resolver or SQL statement runs, over HTTP and graphql-ws alike (both
// use yoga's envelop). Error texts never state a limit or a measured value (`exposeLimits: false`).
// In production: no introspection (graphql-js' rule) and no field suggestions (Armor).
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { GraphQLArmorConfig, GraphQLArmorRejectCallback } from '@escape.tech/graphql-armor-types';
import { GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export interface OperationLimits {
  /** Lexical tokens in the document. */
  maxTokens: number;
  /** Nested field levels; fragments do not add levels. The deepest legitimate operation has 5. */
  maxDepth: number;
  /** Aliases in an operation (`__typename` excepted). */
  maxAliases: number;
  /** Directives in an operation. */
  maxDirectives: number;
  /** Armor's cost: objects 2, scalars 1, ×1.5 per level, × a literal `first`/`last`. */
  maxCost: number;
}

/**
 * The heaviest legitimate operation, a page of 100 jobs with every field (`test/hardening-limits.test.ts` checks it
 * stays allowed), costs about 27 400: the cost limit leaves room for it and refuses two of them in one operation.
 */
export const DEFAULT_LIMITS: OperationLimits = {
  maxTokens: 1000,
  maxDepth: 6,
  maxAliases: 15,
  maxDirectives: 10,
  maxCost: 40_000,
};

export const LIMIT_MESSAGES = {
  tokens: 'The operation is too long.',
  depth: 'The operation is nested too deeply.',
  aliases: 'The operation uses too many aliases.',
  directives: 'The operation uses too many directives.',
  cost: 'The operation asks for too much at once; request fewer items or fields.',
} as const;

/** Reports the refusal as an ordinary validation error (HTTP 400; an `error` message over graphql-ws). */
function refuse(message: string): GraphQLArmorRejectCallback[] {
  return [
    (context) => {
      context?.reportError(new GraphQLError(message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }));
    },
  ];
}

export function armorConfig(limits: OperationLimits, production: boolean): GraphQLArmorConfig {
  // Validation rules report and go on (the standard rules run alongside); the token limit must throw to stop parsing.
  const asValidationError = { exposeLimits: false, propagateOnRejection: false } as const;
  return {
    maxTokens: { n: limits.maxTokens, exposeLimits: false, errorMessage: LIMIT_MESSAGES.tokens, propagateOnRejection: true },
    maxDepth: { n: limits.maxDepth, flattenFragments: true, ignoreIntrospection: true, ...asValidationError, onReject: refuse(LIMIT_MESSAGES.depth) },
    maxAliases: { n: limits.maxAliases, ...asValidationError, onReject: refuse(LIMIT_MESSAGES.aliases) },
    maxDirectives: { n: limits.maxDirectives, ...asValidationError, onReject: refuse(LIMIT_MESSAGES.directives) },
    costLimit: { maxCost: limits.maxCost, ignoreIntrospection: true, ...asValidationError, onReject: refuse(LIMIT_MESSAGES.cost) },
    // Outside production "Did you mean …?" helps developers; in production it would reveal the schema.
    blockFieldSuggestion: { enabled: production, mask: '' },
  };
}

/** Armor's "Did you mean" filter knows field, argument and type names; graphql-js also suggests enum values. */
const SUGGESTION = /\s*Did you mean (the enum value )?".+"\?/;

function withoutSuggestion<E extends { message: string }>(error: E): E {
  if (SUGGESTION.test(error.message)) error.message = error.message.replace(SUGGESTION, '');
  return error;
}

function scrubResult(result: unknown): void {
  const errors = (result as { errors?: unknown } | null)?.errors;
  if (Array.isArray(errors)) for (const error of errors) if (error instanceof GraphQLError) withoutSuggestion(error);
}

export function useOperationLimits(options: { limits?: OperationLimits; production: boolean }): Plugin[] {
  const plugins: Plugin[] = [EnvelopArmorPlugin(armorConfig(options.limits ?? DEFAULT_LIMITS, options.production)) as Plugin];
  if (options.production) {
    plugins.push({
      onValidate({ addValidationRule }) {
        addValidationRule(NoSchemaIntrospectionCustomRule);
        return ({ valid, result, setResult }) => {
          if (!valid) setResult(result.map(withoutSuggestion));
        };
      },
      // A variable's bad enum value is refused while executing, with the same kind of hint.
      onExecute: () => ({ onExecuteDone: ({ result }) => scrubResult(result) }),
      onSubscribe: () => ({ onSubscribeResult: ({ result }) => scrubResult(result) }),
    });
  }
  return plugins;
}
