#!/usr/bin/env node
// A Kafka client that is not Python (kafkajs) against a running tindaklanjut stack:
// publish the contract examples to `<prefix>assessment.published` (keyed by
// data.unit.id, compacted JSON, CloudEvents structured mode), then read
// `<prefix>recommendation.issued` from the beginning in a fresh consumer group
// until the expected number of events arrived.
//
// Usage:
//   node roundtrip.mjs --bootstrap 127.0.0.1:9092 [--prefix PREFIX] [--expected 8]
//                      [--timeout-ms 60000] [--settle-ms 0] EXAMPLES_DIR_OR_FILES...
// Environment fallbacks: KAFKA_BOOTSTRAP (or TINDAKLANJUT_KAFKA_BOOTSTRAP),
// TOPIC_PREFIX (or TINDAKLANJUT_TOPIC_PREFIX), EXAMPLES_DIR, EXPECTED, TIMEOUT_MS.
//
// stdout: one JSON object per line, `record` = "published" (one per message
// sent), "received" (one per recommendation.issued event read) and a final
// "summary". Everything else (kafkajs logs, errors) goes to stderr.
// Exit codes: 0 ok, 1 error, 2 timeout before `expected` events were read,
// 64 bad usage.

import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";

import { Kafka, logLevel, Partitioners } from "kafkajs";

const CONTENT_TYPE = "application/cloudevents+json";

function usage(message) {
  process.stderr.write(`roundtrip.mjs: ${message}\n`);
  process.exit(64);
}

function integer(name, text) {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) usage(`--${name} must be a non-negative integer, got ${JSON.stringify(text)}`);
  return value;
}

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    bootstrap: { type: "string" },
    prefix: { type: "string" },
    expected: { type: "string" },
    "timeout-ms": { type: "string" },
    "settle-ms": { type: "string" },
    "session-timeout-ms": { type: "string" },
    "heartbeat-interval-ms": { type: "string" },
    "rebalance-timeout-ms": { type: "string" },
    "client-id": { type: "string" },
    "log-level": { type: "string" },
  },
});

const env = process.env;
const bootstrap = opts.bootstrap ?? env.KAFKA_BOOTSTRAP ?? env.TINDAKLANJUT_KAFKA_BOOTSTRAP;
if (!bootstrap) usage("no bootstrap address (--bootstrap or KAFKA_BOOTSTRAP)");
const prefix = opts.prefix ?? env.TOPIC_PREFIX ?? env.TINDAKLANJUT_TOPIC_PREFIX ?? "";
const expected = integer("expected", opts.expected ?? env.EXPECTED ?? "8");
const timeoutMs = integer("timeout-ms", opts["timeout-ms"] ?? env.TIMEOUT_MS ?? "60000");
const settleMs = integer("settle-ms", opts["settle-ms"] ?? "0");
// Short group timings: Tansu holds a group join for about half the session
// timeout. Against Apache Kafka the kafkajs defaults would be the right choice.
const sessionTimeout = integer("session-timeout-ms", opts["session-timeout-ms"] ?? "6000");
const heartbeatInterval = integer("heartbeat-interval-ms", opts["heartbeat-interval-ms"] ?? "500");
const rebalanceTimeout = integer("rebalance-timeout-ms", opts["rebalance-timeout-ms"] ?? String(sessionTimeout));
const levelName = (opts["log-level"] ?? env.KAFKAJS_LOG_LEVEL ?? "ERROR").toUpperCase();
if (!(levelName in logLevel)) usage(`unknown --log-level ${levelName}`);

const sources = positionals.length ? positionals : env.EXAMPLES_DIR ? [env.EXAMPLES_DIR] : [];
if (!sources.length) usage("no examples (a directory of *.json files or the files themselves)");
const files = sources.flatMap((source) =>
  statSync(source).isDirectory()
    ? readdirSync(source).filter((n) => n.endsWith(".json")).sort().map((n) => join(source, n))
    : [source]);
if (!files.length) usage(`no *.json files in ${sources.join(", ")}`);

const inputTopic = `${prefix}assessment.published`;
const outputTopic = `${prefix}recommendation.issued`;

function emit(record) {
  process.stdout.write(JSON.stringify(record) + "\n");
}

// kafkajs' default logger writes INFO to stdout; keep stdout for our JSON lines.
const stderrLogger = () => ({ namespace, level, label, log }) => {
  const { message, ...extra } = log;
  process.stderr.write(`kafkajs ${label} [${namespace}] ${message} ${JSON.stringify(extra)}\n`);
};

const kafka = new Kafka({
  clientId: opts["client-id"] ?? "tindaklanjut-e2e-node",
  brokers: bootstrap.split(",").map((b) => b.trim()).filter(Boolean),
  logLevel: logLevel[levelName],
  logCreator: stderrLogger,
  connectionTimeout: 3000,
  retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2000 },
});

const started = Date.now();
const producer = kafka.producer({
  // Java-compatible murmur2 partitioning on the key, like every other client.
  createPartitioner: Partitioners.DefaultPartitioner,
  allowAutoTopicCreation: false,
});
const consumer = kafka.consumer({
  groupId: `tindaklanjut-e2e-node-${randomUUID()}`,
  sessionTimeout,
  heartbeatInterval,
  rebalanceTimeout,
  // Fetches must return well within the session timeout: kafkajs heartbeats
  // between fetches, and an empty topic would otherwise block 5 s per fetch.
  maxWaitTimeInMs: Math.max(100, Math.min(1000, Math.floor(sessionTimeout / 3))),
  allowAutoTopicCreation: false,
});

const received = [];
let published = 0;
let finished = false;
let finish;
const done = new Promise((resolve) => { finish = resolve; });
const settle = (code, reason) => {
  if (!finished) {
    finished = true;
    finish({ code, reason });
  }
};

const timer = setTimeout(() => settle(2, `timeout after ${timeoutMs} ms`), timeoutMs);

async function main() {
  await producer.connect();
  for (const file of files) {
    const document = JSON.parse(readFileSync(file, "utf-8"));
    const key = document?.data?.unit?.id ?? document?.subject ?? null;
    const [meta] = await producer.send({
      topic: inputTopic,
      acks: -1,
      messages: [{ key, value: JSON.stringify(document), headers: { "content-type": CONTENT_TYPE } }],
    });
    published += 1;
    emit({ record: "published", file: basename(file), id: document.id, topic: meta.topicName,
           partition: meta.partition, offset: meta.baseOffset ?? meta.offset, key });
  }
  await producer.disconnect();

  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) settle(1, `consumer crashed: ${payload.error?.message ?? payload.error}`);
  });
  await consumer.connect();
  await consumer.subscribe({ topic: outputTopic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ topic, partition, message }) => {
      const value = message.value?.toString("utf-8") ?? null;
      let event = null;
      try {
        event = value === null ? null : JSON.parse(value);
      } catch {
        event = null;
      }
      const headers = Object.fromEntries(Object.entries(message.headers ?? {})
        .map(([name, v]) => [name, Array.isArray(v) ? v.map(String) : v?.toString("utf-8") ?? null]));
      received.push(event);
      emit({ record: "received", topic, partition, offset: message.offset,
             key: message.key?.toString("utf-8") ?? null, headers, event, raw: event === null ? value : undefined });
      if (received.length === expected) {
        if (settleMs > 0) setTimeout(() => settle(0, "ok"), settleMs);
        else settle(0, "ok");
      }
    },
  });
  if (expected === 0 && settleMs === 0) settle(0, "ok");
  else if (expected === 0) setTimeout(() => settle(0, "ok"), settleMs);
}

let outcome;
try {
  main().catch((error) => settle(1, `error: ${error?.stack ?? error}`));
  outcome = await done;
} finally {
  clearTimeout(timer);
  await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
}
emit({ record: "summary", ok: outcome.code === 0, reason: outcome.reason, bootstrap, input_topic: inputTopic,
       output_topic: outputTopic, published, expected, received: received.length, elapsed_ms: Date.now() - started });
if (outcome.code !== 0) {
  process.stderr.write(`roundtrip.mjs: ${outcome.reason} (published ${published}, received ${received.length}/${expected})\n`);
}
process.exit(outcome.code);
