// The Node OFREP provider against a live Vexil: each resolution's details, one JSON line.
// Run by tests/ofrep/test_node_provider.py with VEXIL_URL and VEXIL_KEY set.
import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';

const provider = new OFREPProvider({
  baseUrl: process.env.VEXIL_URL,
  headers: [['Authorization', `Bearer ${process.env.VEXIL_KEY}`]],
});
await OpenFeature.setProviderAndWait(provider);
const client = OpenFeature.getClient();
const power = { targetingKey: 'node-alice', orders: 12, plan: 'pro' };

const pick = (d) => ({ value: d.value, reason: d.reason, variant: d.variant ?? null, errorCode: d.errorCode ?? null });
const results = {
  boolean: pick(await client.getBooleanDetails('dark_mode', false)),
  string: pick(await client.getStringDetails('banner_text', 'default')),
  integer: pick(await client.getNumberDetails('max_items', 0)),
  float: pick(await client.getNumberDetails('ratio', 0)),
  object: pick(await client.getObjectDetails('checkout_config', {})),
  disabled: pick(await client.getBooleanDetails('beta_search', true)),
  missing: pick(await client.getStringDetails('no_such_flag', 'fallback')),
  targeted: pick(await client.getStringDetails('banner_text', '', power)),
  split: pick(await client.getStringDetails('checkout_button', '', power)),
};
console.log(JSON.stringify(results));
await OpenFeature.close();
