// The IoStart test patterns live in common/patterns.ts (usb/ pushes them too); the channel's name for them.
export * from '../common/patterns.ts';
