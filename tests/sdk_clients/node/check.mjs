// The official Node SDK against a Vexil server; prints one JSON object of what it evaluated.
// Run by tests/sdk_clients/test_node_sdk.py:
//   VEXIL_API_URL=http://127.0.0.1:8000/api/v1/ VEXIL_CLIENT_KEY=... VEXIL_SERVER_KEY=ser.... \
//   VEXIL_IDENTIFIER=alice VEXIL_TRAITS='{"orders": 12}' node check.mjs
import { Flagsmith } from 'flagsmith-nodejs';

const env = (name) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
};
const apiUrl = env('VEXIL_API_URL');
const identifier = env('VEXIL_IDENTIFIER');
const traits = JSON.parse(env('VEXIL_TRAITS'));

// {name: [enabled, value]} for every flag, sorted by name so the output is stable.
const summary = (flags) =>
    Object.fromEntries(
        flags
            .allFlags()
            .map((flag) => [flag.featureName, [flag.enabled, flag.value]])
            .sort(([a], [b]) => a.localeCompare(b))
    );

const options = { apiUrl, requestTimeoutMs: 5000, retries: 0 };

const remote = new Flagsmith({ ...options, environmentKey: env('VEXIL_CLIENT_KEY') });
const local = new Flagsmith({
    ...options,
    environmentKey: env('VEXIL_SERVER_KEY'),
    enableLocalEvaluation: true,
    environmentRefreshIntervalSeconds: 60,
});
try {
    const result = {
        remote_environment: summary(await remote.getEnvironmentFlags()),
        remote_identity: summary(await remote.getIdentityFlags(identifier, traits)),
        local_environment: summary(await local.getEnvironmentFlags()),
        local_identity: summary(await local.getIdentityFlags(identifier, traits)),
    };
    process.stdout.write(JSON.stringify(result) + '\n');
} finally {
    await remote.close();
    await local.close();
}
