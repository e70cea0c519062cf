-- The identity of the log the stored positions of a topic came from: Kafka's topic id and the cluster id. A topic
-- deleted and created again (or restored, or failed over to another cluster) starts its offsets anew; positions of
-- the old log must never be applied to the new one (io.readside.projection.LogGuard). fenced_reason, when set, says
-- why the topic is fenced; it holds for every instance until an operator accepts the new log.
CREATE TABLE log_identities (
    topic         text        PRIMARY KEY,
    topic_id      text        NOT NULL,
    cluster_id    text        NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    fenced_reason text,
    fenced_at     timestamptz
);
