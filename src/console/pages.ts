/**
 * The console's two server-rendered documents: the sign-in form and the shell the client code
 * (console/src/, bundled into dist/console/ at build time) fills in. No inline script or style: the
 * Content-Security-Policy allows scripts from this origin only.
 */

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function page(title: string, head: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/console/assets/console.css">
${head}
</head>
<body>
${body}
</body>
</html>
`;
}

export function signInPage(options: { error?: string; canSignIn: boolean }): string {
  const error = options.error === undefined ? "" : `<p class="error" role="alert" id="sign-in-error">${escapeHtml(options.error)}</p>`;
  const help = options.canSignIn
    ? "<p>Sign in with an admin API key (<code>gradebox-keys create --name NAME --scopes admin</code>) or the service's <code>ADMIN_TOKEN</code>. Another key signs in too, and sees only what it may read.</p>"
    : "<p>No key can sign in yet: create one with <code>gradebox-keys create --name NAME --scopes admin</code>, or start the service with <code>ADMIN_TOKEN</code> set.</p>";
  return page("Sign in · gradebox console", "", `<main class="sign-in">
<h1>gradebox console</h1>
${help}
${error}
<form method="post" action="/console/login">
<label for="key">API key or ADMIN_TOKEN</label>
<input id="key" name="key" type="password" autocomplete="current-password" required${options.error !== undefined ? ' aria-describedby="sign-in-error" aria-invalid="true"' : ""}>
<button type="submit">Sign in</button>
</form>
</main>`);
}

export function shellPage(options: { csrf: string; client: string; admin: boolean }): string {
  const head = `<meta name="gradebox-csrf" content="${escapeHtml(options.csrf)}">
<meta name="gradebox-client" content="${escapeHtml(options.client)}">
<meta name="gradebox-admin" content="${options.admin ? "true" : "false"}">
<script type="module" src="/console/assets/console.js"></script>`;
  return page("gradebox console", head, `<a class="skip" href="#main">Skip to the content</a>
<header class="top">
<nav aria-label="Console">
<a href="/console" class="brand">gradebox console</a>
<a href="/console">Assignments</a>
</nav>
<form method="post" action="/console/logout" class="sign-out">
<span class="who">Signed in as ${escapeHtml(options.client)}${options.admin ? "" : " (not an admin)"}</span>
<button type="submit">Sign out</button>
</form>
</header>
<main id="main" tabindex="-1"><p aria-live="polite">Loading…</p></main>`);
}
