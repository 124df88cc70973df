/** Types of browser-globals.js (the injected globals of the browser build). */
export declare const Buffer: BufferConstructor;
export declare const process: NodeJS.Process;
