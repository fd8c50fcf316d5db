// The phone's offline cache of evidence files (web/js/media.js, as the PWA ships it): beyond
// its cap, files already on the server are deleted least recently used first, and a file not on
// the server yet (kept only on this phone, being uploaded, or refused) is never deleted.
import { openApp, check, main, mediaModule } from './browser.mjs';

await main(async (baseUrl) => {
  const { browser, page, errors } = await openApp(baseUrl);
  const module = await mediaModule(page);
  const chosen = await page.evaluate(async (module) => {
    const media = await import(module);
    const files = () => [
      { sha: 'a', state: 'server', size: 40, used: 10, added: 1 },
      { sha: 'b', state: 'server', size: 40, used: 30, added: 2 },
      { sha: 'c', state: 'local', size: 500, used: 0, added: 0 },
      { sha: 'd', state: 'refused', size: 30, used: 0, added: 0 },
      { sha: 'e', state: 'server', size: 40, used: 20, added: 3 },
    ];
    return {
      roomy: media.evictions(files(), 1000),
      exact: media.evictions(files(), 120),
      over: media.evictions(files(), 100),
      tight: media.evictions(files(), 50),
      none: media.evictions(files(), 0),
      cap: media.CAP_BYTES,
    };
  }, module);
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  check(same(chosen.roomy, []) && same(chosen.exact, []), `nothing is deleted within the cap (${JSON.stringify(chosen)})`);
  check(same(chosen.over, ['a']), `the least recently used goes first (${JSON.stringify(chosen.over)})`);
  check(same(chosen.tight, ['a', 'e']), `then the next least recently used (${JSON.stringify(chosen.tight)})`);
  check(same(chosen.none, ['a', 'e', 'b']), `files not on the server are never deleted (${JSON.stringify(chosen.none)})`);
  check(chosen.cap === 200 * 1024 * 1024, 'the cap is 200 MiB');
  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
  await browser.close();
});
