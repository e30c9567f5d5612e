/**
 * @tether/ai-sdk: Tether sessions for the AI SDK.
 *
 * - {@link createTetherChatTransport}: a `ChatTransport<UIMessage>` for `useChat` / `Chat`.
 * - `@tether/ai-sdk/agent`: `answer` / `writeUIMessageStream`, the agent side.
 */
export {
  TetherChatTransport,
  createTetherChatTransport,
  foldMessages,
  type ChatChange,
  type TetherChatTransportOptions,
} from './transport.js';
export { RunChunks, chunkToEvents, fenceOf, fenceReason } from './chunks.js';
