// Injected into the browser build (scripts/browser-build.ts): the `Buffer` and `process` globals
// that the library's Node-style code and memfs use, from their npm ports.
import { Buffer } from 'buffer/';
import process from 'process/browser.js';

export { Buffer, process };
