/** Types of browser-events.js (what the browser build gives for `events`): Node's EventEmitter and once. */
export { EventEmitter, once } from 'node:events';
export { EventEmitter as default } from 'node:events';
