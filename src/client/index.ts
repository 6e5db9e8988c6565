// Public entry of the ChatAPI TypeScript client (browser and Bun); imports nothing outside src/client/.
export { backoffDelayMs, shutdownDelayMs, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff.ts";
export { ChatClient, createChatClient } from "./chat-client.ts";
export type {
  EditMessageChanges,
  ListRoomsOptions,
  SendMessageOptions,
  SyncOptions,
} from "./chat-client-methods.ts";
export type * from "./connection-types.ts";
export { ChatClientError, type ChatClientErrorCode } from "./errors.ts";
export { createRestClient, RestClient, type CreateRoomInput, type HistoryOptions, type RestClientOptions } from "./rest-client.ts";
export { isJwt, jwtExpiryMs, TokenCache, type TokenCacheOptions } from "./token-cache.ts";
export type { Handler } from "./emitter.ts";
export type * from "./types.ts";
