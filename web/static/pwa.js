// Service worker registration and the "new version available" signal.
// The app listens for the 'tramyte-update-available' event on window and calls
// window.tramyteApplyUpdate() when the person chooses to reload.
const UPDATE_EVENT = 'tramyte-update-available';

function announce(worker) {
  window.__tramyteUpdate = worker;
  window.dispatchEvent(new CustomEvent(UPDATE_EVENT));
}

window.tramyteApplyUpdate = () => {
  const worker = window.__tramyteUpdate;
  window.__tramyteApplying = true;
  if (worker) worker.postMessage({ type: 'SKIP_WAITING' });
  else window.location.reload();
};

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (window.__tramyteApplying && !window.__tramyteReloading) {
      window.__tramyteReloading = true;
      window.location.reload();
    }
  });
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).then((registration) => {
    if (registration.waiting && navigator.serviceWorker.controller) announce(registration.waiting);
    registration.addEventListener('updatefound', () => {
      const worker = registration.installing;
      if (!worker) return;
      worker.addEventListener('statechange', () => {
        if (worker.state === 'installed' && navigator.serviceWorker.controller) announce(worker);
      });
    });
    const check = () => registration.update().catch(() => {});
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') check();
    });
    setInterval(check, 60 * 60 * 1000);
  }).catch((error) => console.warn('service worker registration failed', error));
}
