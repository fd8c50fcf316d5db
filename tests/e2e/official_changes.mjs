// Writes, as one JSON line on stdout, documents and changes made by the official client
// (@automerge/automerge 3.x) exactly as official_bench.mjs makes them: for each of N documents
// (argv[2], 100) its first version saved, then K changes (argv[3], 10) as raw change bytes, all
// hex. `tests/benches/official.rs` applies them in-process beside the same documents made by
// automerge in Rust, to compare what one change costs the server to apply by who made it.
import * as Automerge from '@automerge/automerge';

const docs = Number(process.argv[2] || 100);
const changes = Number(process.argv[3] || 10);
const hex = (bytes) => Buffer.from(bytes).toString('hex');
const out = [];
for (let d = 0; d < docs; d++) {
  let doc = Automerge.change(Automerge.init(), (x) => {
    x.title = new Automerge.ImmutableString(`Trạm Y tế xã 0-${d}`);
    x.zone = 1;
    x.note = '';
  });
  const base = hex(Automerge.save(doc));
  const list = [];
  for (let c = 0; c < changes; c++) {
    doc = Automerge.change(doc, (x) => {
      x[`score_${c % 10}`] = new Automerge.ImmutableString(`${c % 3}.5`);
      Automerge.splice(x, ['note'], x.note.length, 0, 'đã kiểm tra; ');
    });
    list.push(hex(Automerge.getLastLocalChange(doc)));
  }
  out.push({ base, changes: list });
}
process.stdout.write(`${JSON.stringify(out)}\n`);
