// The browser client as the hub serves it at /client/slotcast.js: one ESM file for pages without a bundler.
export * from '@slotcast/client/browser';
