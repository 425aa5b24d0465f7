/**
 * Alerts on the console: a chime and a browser notification when a stream starts (each off
 * by default, switched per browser: a busy control room would hear a chime for every
 * camera switched on), and a help request's alarm, which always sounds (again every
 * {@link ALARM_REPEAT_MS} while any help request waits) and notifies (if the browser
 * allows notifications) until someone acknowledges it.
 *
 * Browsers play sound only after the person interacted with the page (autoplay rules):
 * sounds are made with WebAudio, whose context is resumed at the first click or key; until
 * then the page says sound is blocked (`#alerts-blocked`). Notifications need the
 * browser's permission, asked when the operator switches them on.
 *
 * The switches are kept in `localStorage` (`bwlive.console.alerts`). Test hooks: the
 * switches `#alert-start-sound`, `#alert-start-notify`; `window.bwlive.alerts` (`sounds`:
 * `[{kind: 'start'|'help', camera}]` played, `notifications`: `[{kind, title}]` shown).
 */
import { byId } from './dom.js';

const SETTINGS_KEY = 'bwlive.console.alerts';
export const ALARM_REPEAT_MS = 4000;
const TONES = {
  start: [[660, 0, 0.12], [880, 0.14, 0.16]],
  help: [[988, 0, 0.18], [740, 0.22, 0.18], [988, 0.44, 0.18], [740, 0.66, 0.18]],
};

export class Alerts {
  /** @type {{kind: string, camera: string}[]} */
  sounds = [];
  /** @type {{kind: string, title: string}[]} */
  notifications = [];

  /** @type {Set<string> | null} the stream ids of the last list (null: none seen yet) */
  #known = null;
  /** @type {Set<string>} streams whose help request was alerted */
  #helped = new Set();
  /** @type {AudioContext | null} */
  #audio = null;
  #alarm = 0;
  #settings;
  #switches;

  constructor() {
    this.#settings = { startSound: false, startNotify: false, ...readSettings() };
    this.#switches = {
      startSound: /** @type {HTMLInputElement} */ (byId('alert-start-sound')),
      startNotify: /** @type {HTMLInputElement} */ (byId('alert-start-notify')),
    };
    for (const [name, box] of Object.entries(this.#switches)) {
      box.checked = this.#settings[name];
      box.onchange = () => this.#switch(name, box.checked);
    }
    const unlock = () => this.#context()?.resume().then(() => this.#showBlocked());
    addEventListener('pointerdown', unlock);
    addEventListener('keydown', unlock);
  }

  /**
   * The stream list changed: alert new streams (not those live when the page opened or
   * reconnected) and new help requests.
   * @param {import('./streams.js').Stream[]} streams
   */
  follow(streams) {
    const ids = new Set(streams.map((stream) => stream.id));
    if (this.#known) {
      for (const stream of streams) if (!this.#known.has(stream.id)) this.#started(stream);
    }
    this.#known = ids;
    for (const stream of streams) {
      if (stream.help_requested_at && !this.#helped.has(stream.id)) this.#helpRequested(stream);
    }
    this.#helped = new Set(streams.filter((stream) => stream.help_requested_at).map((stream) => stream.id));
    clearInterval(this.#alarm);
    const waiting = streams.filter((stream) => stream.help_requested_at);
    if (waiting.length) this.#alarm = setInterval(() => this.#play('help', waiting[0].camera), ALARM_REPEAT_MS);
  }

  /** @param {import('./streams.js').Stream} stream */
  #started(stream) {
    if (this.#settings.startSound) this.#play('start', stream.camera);
    if (this.#settings.startNotify) this.#notify('start', `${stream.camera} started streaming`, { tag: `start-${stream.id}` });
  }

  /** @param {import('./streams.js').Stream} stream */
  #helpRequested(stream) {
    this.#play('help', stream.camera);
    this.#notify('help', `${stream.camera} asks for help`, {
      body: 'Open the console and acknowledge the stream.',
      tag: `help-${stream.id}`,
      requireInteraction: true,
    });
  }

  /**
   * @param {'startSound'|'startNotify'} name
   * @param {boolean} on
   */
  async #switch(name, on) {
    this.#context()?.resume();
    if (name === 'startNotify' && on && globalThis.Notification && Notification.permission !== 'granted') {
      on = (await Notification.requestPermission()) === 'granted';
      this.#switches.startNotify.checked = on;
    }
    this.#settings[name] = on;
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(this.#settings));
  }

  /**
   * @param {'start'|'help'} kind
   * @param {string} camera
   */
  #play(kind, camera) {
    const audio = this.#context();
    this.#showBlocked();
    if (!audio || audio.state !== 'running') return;
    const now = audio.currentTime;
    for (const [frequency, start, length] of TONES[kind]) {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.2, now + start);
      gain.gain.exponentialRampToValueAtTime(0.001, now + start + length);
      tone.connect(gain).connect(audio.destination);
      tone.start(now + start);
      tone.stop(now + start + length);
    }
    this.sounds.push({ kind, camera });
  }

  /**
   * @param {'start'|'help'} kind
   * @param {string} title
   * @param {NotificationOptions} options
   */
  #notify(kind, title, options) {
    if (!globalThis.Notification || Notification.permission !== 'granted') return;
    new Notification(title, options); // shown by being made
    this.notifications.push({ kind, title });
  }

  /** @returns {AudioContext | null} made at the first need */
  #context() {
    if (!this.#audio && globalThis.AudioContext) this.#audio = new AudioContext();
    return this.#audio;
  }

  #showBlocked() {
    byId('alerts-blocked').hidden = this.#audio?.state !== 'suspended';
  }
}

/** @returns {{startSound?: boolean, startNotify?: boolean}} */
function readSettings() {
  try {
    const stored = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}');
    return {
      ...(typeof stored.startSound === 'boolean' ? { startSound: stored.startSound } : {}),
      ...(typeof stored.startNotify === 'boolean' ? { startNotify: stored.startNotify } : {}),
    };
  } catch {
    return {};
  }
}
