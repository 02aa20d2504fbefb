/**
 * STAND-INS for metric endpoints whose software cannot run here (no Milvus, no Kafka server for
 * kafka_exporter, no Elasticsearch for elasticsearch_exporter, and Debian's ClickHouse 18.16 predates
 * the <prometheus> endpoint). Each serves
 * the Prometheus text exposition format (`# HELP`/`# TYPE`, one sample a line) with the metric
 * names, label names and types of the pinned versions, and values that move between scrapes:
 *  - Milvus v2.4 /metrics on 9091 — pkg/metrics/proxy_metrics.go `ProxySQLatency`
 *    (histogram `milvus_proxy_sq_latency`, labels node_id, query_type, db_name, collection_name;
 *    milliseconds) and pkg/metrics/datacoord_metrics.go `IndexTaskNum` (gauge
 *    `milvus_datacoord_index_task_count`, labels collection_id, index_task_status).
 *  - kafka_exporter v1.8.0 on 9308 — kafka_exporter.go: `kafka_brokers`, `kafka_consumergroup_lag`
 *    (consumergroup, topic, partition), `kafka_consumergroup_lag_sum` (consumergroup, topic),
 *    `kafka_topic_partition_current_offset` (topic, partition).
 *  - elasticsearch_exporter v1.8.0 on 9114 — collector/cluster_health.go
 *    `elasticsearch_cluster_health_status` (cluster, color: 1 for the current colour, 0 for the
 *    others), collector/nodes.go `elasticsearch_jvm_memory_used_bytes`/`_max_bytes` (area and the
 *    node labels cluster, host, name, es_*_node).
 *  - ClickHouse 24.8 <prometheus> on 9363 — src/Server/PrometheusMetricsWriter.cpp writes every
 *    ProfileEvent as `ClickHouseProfileEvents_<Name>` with `# TYPE … counter` and no `_total` suffix.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface StandIn {
  url: string;
  port: number;
  /** How many times it was scraped. */
  scrapes(): number;
  stop(): Promise<void>;
}

type Render = (scrape: number) => string;

async function serve(render: Render): Promise<StandIn> {
  let n = 0;
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    n++;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(render(n));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    scrapes: () => n,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const MILVUS_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048];

/** Milvus stand-in: 10 searches per scrape, latencies 3–40 ms; 3 indexes built, 0 failed. */
export function milvusMetricsStandIn(): Promise<StandIn> {
  return serve((n) => {
    const labels = 'node_id="1",query_type="search",db_name="default",collection_name="knowledge"';
    const searches = 10 * n;
    const latencies = [3, 5, 7, 9, 12, 15, 18, 22, 30, 40];
    const lines = [
      '# HELP milvus_proxy_sq_latency latency of search or query successfully',
      '# TYPE milvus_proxy_sq_latency histogram',
      ...MILVUS_BUCKETS.map(
        (le) =>
          `milvus_proxy_sq_latency_bucket{${labels},le="${le}"} ${n * latencies.filter((l) => l <= le).length}`,
      ),
      `milvus_proxy_sq_latency_bucket{${labels},le="+Inf"} ${searches}`,
      `milvus_proxy_sq_latency_sum{${labels}} ${n * latencies.reduce((a, b) => a + b, 0)}`,
      `milvus_proxy_sq_latency_count{${labels}} ${searches}`,
      '# HELP milvus_datacoord_index_task_count number of index tasks of each type',
      '# TYPE milvus_datacoord_index_task_count gauge',
      'milvus_datacoord_index_task_count{collection_id="449",index_task_status="finished"} 3',
      'milvus_datacoord_index_task_count{collection_id="449",index_task_status="failed"} 0',
      'milvus_datacoord_index_task_count{collection_id="449",index_task_status="in-progress"} 0',
      'milvus_datacoord_index_task_count{collection_id="449",index_task_status="unissued"} 0',
    ];
    return `${lines.join('\n')}\n`;
  });
}

/** kafka_exporter stand-in: 3 brokers, one consumer group 12 messages behind on 2 partitions. */
export function kafkaExporterStandIn(): Promise<StandIn> {
  return serve((n) => {
    const lines = [
      '# HELP kafka_topic_partition_current_offset Current Offset of a Broker at Topic/Partition',
      '# TYPE kafka_topic_partition_current_offset gauge',
      `kafka_topic_partition_current_offset{partition="0",topic="conversation.events"} ${100 + 3 * n}`,
      `kafka_topic_partition_current_offset{partition="1",topic="conversation.events"} ${90 + 2 * n}`,
      '# HELP kafka_brokers Number of Brokers in the Kafka Cluster.',
      '# TYPE kafka_brokers gauge',
      'kafka_brokers 3',
      '# HELP kafka_consumergroup_lag Current Approximate Lag of a ConsumerGroup at Topic/Partition',
      '# TYPE kafka_consumergroup_lag gauge',
      'kafka_consumergroup_lag{consumergroup="conversation-indexer",partition="0",topic="conversation.events"} 5',
      'kafka_consumergroup_lag{consumergroup="conversation-indexer",partition="1",topic="conversation.events"} 7',
      '# HELP kafka_consumergroup_lag_sum Current Approximate Lag of a ConsumerGroup at Topic for all partitions',
      '# TYPE kafka_consumergroup_lag_sum gauge',
      'kafka_consumergroup_lag_sum{consumergroup="conversation-indexer",topic="conversation.events"} 12',
    ];
    return `${lines.join('\n')}\n`;
  });
}

/** elasticsearch_exporter stand-in: one green cluster, one node at 40 % of its 2 GB heap. */
export function elasticsearchExporterStandIn(): Promise<StandIn> {
  return serve(() => {
    const node =
      'cluster="voiceassistant",es_client_node="true",es_data_node="true",es_ingest_node="true",es_master_node="true",host="10.244.0.12",name="elasticsearch-0"';
    const lines = [
      '# HELP elasticsearch_cluster_health_status Whether all primary and replica shards are allocated.',
      '# TYPE elasticsearch_cluster_health_status gauge',
      ...['green', 'yellow', 'red'].map(
        (c) =>
          `elasticsearch_cluster_health_status{cluster="voiceassistant",color="${c}"} ${c === 'green' ? 1 : 0}`,
      ),
      '# HELP elasticsearch_jvm_memory_used_bytes JVM memory currently used by area',
      '# TYPE elasticsearch_jvm_memory_used_bytes gauge',
      `elasticsearch_jvm_memory_used_bytes{area="heap",${node}} ${0.4 * 2 ** 31}`,
      `elasticsearch_jvm_memory_used_bytes{area="non-heap",${node}} ${180 * 2 ** 20}`,
      '# HELP elasticsearch_jvm_memory_max_bytes JVM memory max',
      '# TYPE elasticsearch_jvm_memory_max_bytes gauge',
      `elasticsearch_jvm_memory_max_bytes{area="heap",${node}} ${2 ** 31}`,
    ];
    return `${lines.join('\n')}\n`;
  });
}

/** ClickHouse stand-in: 4 queries of 2.5 ms each per scrape; reads decompress 4:1. */
export function clickhouseMetricsStandIn(): Promise<StandIn> {
  return serve((n) => {
    const counter = (name: string, help: string, value: number) => [
      `# HELP ClickHouseProfileEvents_${name} ${help}`,
      `# TYPE ClickHouseProfileEvents_${name} counter`,
      `ClickHouseProfileEvents_${name} ${value}`,
    ];
    const lines = [
      ...counter('Query', 'Number of queries to be interpreted and potentially executed.', 4 * n),
      ...counter('QueryTimeMicroseconds', 'Total time of all queries.', 10_000 * n),
      ...counter(
        'CompressedReadBufferBytes',
        'Number of uncompressed bytes (the number of bytes after decompression) read from compressed sources.',
        4_000_000 * n,
      ),
      ...counter(
        'ReadCompressedBytes',
        'Number of bytes (the number of bytes before decompression) read from compressed sources.',
        1_000_000 * n,
      ),
    ];
    return `${lines.join('\n')}\n`;
  });
}

/**
 * The dashboards Grafana provisions from the stack (ConfigMap grafana-dashboards in
 * manifests/base/dashboards.yaml), as the Grafana stand-in lists them on /api/search.
 */
export function provisionedDashboards(): { uid: string; title: string; tags: string[] }[] {
  const file = resolve(import.meta.dirname, '../../manifests/base/dashboards.yaml');
  const cm = parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as { kind?: string; metadata?: { name?: string }; data?: Record<string, string> })
    .find((d) => d.kind === 'ConfigMap' && d.metadata?.name === 'grafana-dashboards');
  return Object.entries(cm?.data ?? {})
    .filter(([k]) => k.endsWith('.json'))
    .map(([, v]) => JSON.parse(v) as { uid: string; title: string; tags: string[] })
    .map(({ uid, title, tags }) => ({ uid, title, tags }));
}
