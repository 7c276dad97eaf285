// A certified OpenID Connect provider (panva's oidc-provider) on a free loopback port, configured
// like Entra for a native public client: PKCE required, loopback redirects on any port, device
// flow on. Prints {"issuer": …} on its first line; runs until killed.
import net from 'node:net';
import Provider from 'oidc-provider';

const port = await new Promise((resolve) => {
  const probe = net.createServer();
  probe.listen(0, '127.0.0.1', () => {
    const { port: p } = probe.address();
    probe.close(() => resolve(p));
  });
});
const issuer = `http://127.0.0.1:${port}`;
const graph = ['User.Read', 'Organization.Read.All', 'RoleManagement.Read.Directory', 'OnPremDirectorySynchronization.Read.All']
  .map((p) => `https://graph.microsoft.com/${p}`);

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'writeback-wizard',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/callback'],
  }],
  scopes: ['openid', 'offline_access', 'profile', ...graph],
  features: { devInteractions: { enabled: true }, deviceFlow: { enabled: true } },
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  // OIDC grants offline_access only with prompt=consent; Entra does not ask for it. Issue refresh
  // tokens to clients allowed the grant, as Entra does for public clients.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
});

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});
