// The console's HTML shell: no inline script or style (the CSP forbids both); app.js builds the UI.

/** The page for a given asset version (hex, so it needs no escaping). */
export function renderPage(version: string): string {
  const v = encodeURIComponent(version);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<title>ChatAPI console</title>
<link rel="icon" href="/console/assets/favicon.svg?v=${v}" type="image/svg+xml">
<link rel="stylesheet" href="/console/assets/app.css?v=${v}">
<script type="module" src="/console/assets/app.js?v=${v}"></script>
</head>
<body>
<noscript><p class="noscript">The ChatAPI console needs JavaScript.</p></noscript>
<div id="app" class="app"></div>
</body>
</html>
`;
}
