// Prints one signed kind-1 event whose content is SIZE bytes (default 1.5 MiB) of mixed text.
import { generateSecretKey, finalizeEvent } from 'nostr-tools/pure';
const size = Number(process.argv[2] || 1572864);
const unit = 'Proton Beam \u00e9\u2603 "quoted" \\ line\n';
// Whole units until at least SIZE bytes (measuring the growing string each time was quadratic: minutes).
const content = unit.repeat(Math.ceil(size / Buffer.byteLength(unit)));
const ev = finalizeEvent({ kind: 1, created_at: 1700000000, tags: [['t', 'big']], content }, generateSecretKey());
process.stdout.write(JSON.stringify(ev) + '\n');
