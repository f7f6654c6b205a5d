// Top-level GraphQL errors (not result-union members) with the contract's extensions.code values.
// GraphQLErrors pass yoga's masking unchanged; anything else reaches clients as INTERNAL_SERVER_ERROR.
import { createGraphQLError } from 'graphql-yoga';

export function badUserInput(message: string) {
  return createGraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

export function notFound(message: string) {
  return createGraphQLError(message, { extensions: { code: 'NOT_FOUND' } });
}
