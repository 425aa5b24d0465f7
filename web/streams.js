/**
 * The live list of active streams from the WebSocket `/api/streams/ws` (PROTOCOL §4),
 * reconnecting with exponential backoff while the server is away.
 */

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30000;

/** The server closes the socket with this code when the user's role or membership changed. */
export const ACCESS_CHANGED = 4001;

/**
 * @typedef {{by: string, at: string}} Acknowledgement
 * @typedef {{id: string, camera: string, started_at: string, key_envelope: object,
 *            acknowledged: Acknowledgement | null, lost_at?: string | null}} Stream
 *   `lost_at`: the camera sent no media for 2 s; when its last media arrived
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
 */
export function watchStreams({ onStreams, onGroups, onStatus, onAccessChanged }) {
  const url = new URL('/api/streams/ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  let retryMs = FIRST_RETRY_MS;

  const connect = () => {
    const socket = new WebSocket(url);
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
      if (event.code === ACCESS_CHANGED) {
        onAccessChanged().then((again) => {
          if (again) connect();
        });
        return;
      }
      onStatus(false, retryMs);
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    };
  };
  connect();
}
