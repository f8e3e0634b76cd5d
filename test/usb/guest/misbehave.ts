// Runs INSIDE the QEMU guest, for test/usb/guest-runner.test.ts: a script that goes wrong in the
// ways runInGuest must report. `exit N`: prints to both streams and exits N. `hang`: prints a line,
// then never ends.
const [mode, code] = process.argv.slice(2);
if (mode === 'exit') {
  console.log(`stdout of ${process.argv.slice(2).join(' ')}`);
  console.error(`stderr of ${process.argv.slice(2).join(' ')}`);
  process.exit(Number(code));
}
if (mode === 'hang') {
  console.log('still here, about to hang');
  setInterval(() => {}, 60_000);
} else {
  throw new Error(`unknown mode ${mode}`);
}
