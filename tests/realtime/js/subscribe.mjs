// Subscribe to postgres_changes with the official supabase-js and print what arrives, one JSON object a line.
//
// Usage: node --experimental-websocket subscribe.mjs <json options>
// options: {url, anonKey, accessToken, vsn, channel, bindings: [{event, schema, table, filter}], seconds}
// Lines: {"kind":"status","status":...}, {"kind":"system","payload":...}, {"kind":"change","payload":...}.
import { createClient } from '@supabase/supabase-js'

const options = JSON.parse(process.argv[2])
const print = (line) => process.stdout.write(JSON.stringify(line) + '\n')

const client = createClient(options.url, options.anonKey, {
  // A token from outside Supabase Auth must come through `accessToken`, or supabase-js falls back to the anon key.
  accessToken: async () => options.accessToken ?? options.anonKey,
  realtime: { params: {}, vsn: options.vsn },
})

// Resolve the token before joining: a channel subscribed while it is still pending joins with the anon
// key, and supabase-js does not send the token afterwards (it already holds the same value).
await client.realtime.setAuth()

let channel = client.channel(options.channel)
for (const binding of options.bindings) {
  channel = channel.on('postgres_changes', binding, (payload) => print({ kind: 'change', payload }))
}
channel = channel.on('system', {}, (payload) => print({ kind: 'system', payload }))
channel.subscribe((status, error) => print({ kind: 'status', status, error: error ? String(error) : null }))

setTimeout(async () => {
  await client.removeAllChannels()
  process.exit(0)
}, (options.seconds ?? 20) * 1000)
