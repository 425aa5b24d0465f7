/**
 * The live list of active streams from the WebSocket `/api/streams/ws` (PROTOCOL §4),
 * reconnecting with exponential backoff while the server is away. With a viewer token
 * (the embedded player), the token goes as the second subprotocol (docs/EMBEDDING.md).
 */
import { CONSOLE_API } from './api.js';

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30000;

/** The server closes the socket with this code when the user's role or membership changed. */
export const ACCESS_CHANGED = 4001;
/** The server closes a viewer token's socket with this code when the token expires. */
export const TOKEN_EXPIRED = 4002;
const TOKEN_SUBPROTOCOL = 'bwlive.bearer';

/**
 * @typedef {{by: string, at: string}} Acknowledgement
 * @typedef {{id: string, camera: string, started_at: string, key_envelope: object,
 *            manifest?: string | null, acknowledged: Acknowledgement | null,
 *            lost_at?: string | null, help_requested_at?: string | null}} Stream
 *   `manifest`: the stream's manifest signed by its camera (PROTOCOL §5.3);
 *   `lost_at`: the camera sent no media for 2 s; when its last media arrived;
 *   `help_requested_at`: its wearer asked for help then, not acknowledged since
 * @typedef {{id: string, name: string, members: string[]}} Group
 */

/**
 * Follow the stream list until the page goes away.
 * @param {object} handlers
 * @param {(streams: Stream[]) => void} handlers.onStreams the full list, on connect and on every change
 * @param {(groups: Group[]) => void} handlers.onGroups the operators' groups, on every change
 * @param {(connected: boolean, retryInMs?: number) => void} handlers.onStatus
 * @param {() => Promise<boolean>} handlers.onAccessChanged the server closed the socket
 *   because this user's access changed; resolves whether to reconnect
 * @param {() => void} [handlers.onTokenExpired] the viewer token expired (the next try presents the token then current)
 * @param {import('./api.js').Api} [api] the server, as this page calls it
 * @returns {() => void} stops following
 */
export function watchStreams({ onStreams, onGroups, onStatus, onAccessChanged, onTokenExpired }, api = CONSOLE_API) {
  const url = api.url('/api/streams/ws');
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  let retryMs = FIRST_RETRY_MS;
  let stopped = false;
  /** @type {WebSocket | null} */
  let socket = null;
  let retryTimer = 0;

  const connect = () => {
    if (stopped) return;
    const token = api.token;
    socket = new WebSocket(url, token ? [TOKEN_SUBPROTOCOL, token] : []);
    socket.onopen = () => {
      retryMs = FIRST_RETRY_MS;
      onStatus(true);
    };
    socket.onmessage = ({ data }) => {
      let message;
      try {
        message = JSON.parse(data);
      } catch {
        return;
      }
      if (message?.type === 'streams' && Array.isArray(message.streams)) onStreams(message.streams);
      if (message?.type === 'groups' && Array.isArray(message.groups)) onGroups(message.groups);
    };
    socket.onclose = (event) => {
      if (stopped) return;
      if (event.code === TOKEN_EXPIRED) onTokenExpired?.();
      if (event.code === ACCESS_CHANGED) {
        onAccessChanged().then((again) => {
          if (again) connect();
        });
        return;
      }
      onStatus(false, retryMs);
      retryTimer = setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    };
  };
  connect();
  return () => {
    stopped = true;
    clearTimeout(retryTimer);
    socket?.close();
  };
}
