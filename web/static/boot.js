// Boots the wasm app and registers the service worker (see pwa.js).
import init from '/pkg/tramyte_web.js';
import '/pwa.js';

init({ module_or_path: '/pkg/tramyte_web_bg.wasm' }).catch((error) => {
  const boot = document.getElementById('boot');
  if (boot) boot.textContent = 'Không tải được ứng dụng / The app failed to load: ' + error;
  console.error(error);
});
