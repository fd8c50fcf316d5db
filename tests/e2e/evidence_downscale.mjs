// The phone's downscaler (web/js/media.js, as the PWA ships it): a 3200×1600 JPEG becomes a
// 1600×800 image and a 320×160 thumbnail, left half still left; the same JPEG with an EXIF
// APP1 segment saying orientation 6 (rotate 90° clockwise to show) becomes 800×1600 and
// 160×320, its left half now on top; and no output carries EXIF any more.
import { openApp, check, main, mediaModule } from './browser.mjs';

await main(async (baseUrl) => {
  const { browser, page, errors } = await openApp(baseUrl);
  const module = await mediaModule(page);

  const results = await page.evaluate(async (module) => {
    const media = await import(module);
    // Left half red, right half blue.
    const canvas = new OffscreenCanvas(3200, 1600);
    const context = canvas.getContext('2d');
    context.fillStyle = '#ff0000';
    context.fillRect(0, 0, 1600, 1600);
    context.fillStyle = '#0000ff';
    context.fillRect(1600, 0, 1600, 1600);
    const plain = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.9 })).arrayBuffer());
    // APP1 "Exif": a big-endian TIFF header and one IFD entry, Orientation (0x0112) = 6.
    const app1 = [
      0xff, 0xe1, 0x00, 0x22,
      0x45, 0x78, 0x69, 0x66, 0x00, 0x00,
      0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08,
      0x00, 0x01,
      0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00,
    ];
    const rotated = new Uint8Array(plain.length + app1.length);
    rotated.set(plain.subarray(0, 2));
    rotated.set(app1, 2);
    rotated.set(plain.subarray(2), 2 + app1.length);

    // The colour at a point of a JPEG, as [r, g, b].
    async function pixel(bytes, x, y) {
      const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/jpeg' }));
      const c = new OffscreenCanvas(bitmap.width, bitmap.height);
      const ctx = c.getContext('2d');
      ctx.drawImage(bitmap, 0, 0);
      return Array.from(ctx.getImageData(Math.floor(x * bitmap.width), Math.floor(y * bitmap.height), 1, 1).data.slice(0, 3));
    }
    const hasExif = (bytes) => {
      for (let i = 0; i + 4 < bytes.length; i += 1) {
        if (bytes[i] === 0x45 && bytes[i + 1] === 0x78 && bytes[i + 2] === 0x69 && bytes[i + 3] === 0x66 && bytes[i + 4] === 0) return true;
      }
      return false;
    };
    const describe = async (input) => {
      const { image, thumbnail } = await media.downscale(new Blob([input], { type: 'image/jpeg' }));
      return {
        image: [image.width, image.height],
        thumbnail: [thumbnail.width, thumbnail.height],
        first: await pixel(image.bytes, 0.1, 0.1),
        last: await pixel(image.bytes, 0.9, 0.9),
        exif: hasExif(image.bytes) || hasExif(thumbnail.bytes),
      };
    };
    return {
      inputHasExif: hasExif(rotated),
      plain: await describe(plain),
      rotated: await describe(rotated),
      fit: [media.fit(4000, 3000, 1600), media.fit(3000, 4000, 320), media.fit(100, 50, 1600)],
    };
  }, module);

  const red = ([r, g, b]) => r > 200 && g < 60 && b < 60;
  const blue = ([r, g, b]) => b > 200 && r < 60 && g < 60;
  check(results.inputHasExif, 'the test image carries EXIF');
  check(JSON.stringify(results.fit) === JSON.stringify([[1600, 1200], [240, 320], [100, 50]]),
    `fit keeps the aspect ratio and never enlarges: ${JSON.stringify(results.fit)}`);
  const { plain, rotated } = results;
  check(plain.image.join('×') === '1600×800' && plain.thumbnail.join('×') === '320×160',
    `a landscape photo keeps its proportions: ${JSON.stringify(plain)}`);
  check(red(plain.first) && blue(plain.last), `left stays left: ${JSON.stringify(plain)}`);
  check(rotated.image.join('×') === '800×1600' && rotated.thumbnail.join('×') === '160×320',
    `orientation 6 turns it upright: ${JSON.stringify(rotated)}`);
  // Turned 90° clockwise, the left half (red) is on top, the right half (blue) below.
  check(red(rotated.first) && blue(rotated.last), `the left half is now on top: ${JSON.stringify(rotated)}`);
  check(!plain.exif && !rotated.exif, 'no output carries EXIF');
  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
  await browser.close();
});
