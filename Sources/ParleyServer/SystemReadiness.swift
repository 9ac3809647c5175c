import Foundation
import Hummingbird
import Logging
import ParleyCore
import ParleyStore
import Prometheus

extension SystemController {
    struct Readiness: Encodable, Sendable {
        let status: String
        let database: String
        /// current, pending (migrations this version has and the database lacks), newer (the
        /// database has migrations this version does not know), or unknown (unreachable).
        let schema: String
    }

    /// `/readyz`: whether this instance should get traffic. `/healthz` says the process is alive;
    /// this also says it can serve: the database answers and carries exactly this version's
    /// migrations (during a rolling upgrade an old instance sees `newer` and a new one that has
    /// not migrated yet sees `pending`).
    @Sendable func ready(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Readiness> {
        let status: SchemaStatus
        do {
            status = try await SchemaStatus.read(services.database)
        } catch {
            context.logger.error("readiness check failed", metadata: ["error": "\(loggableDescription(of: error))"])
            return JSONResponse(Readiness(status: "unavailable", database: "unreachable", schema: "unknown"), status: .serviceUnavailable)
        }
        if status.isCurrent { return JSONResponse(Readiness(status: "ready", database: "ok", schema: "current")) }
        let schema = status.unknown.isEmpty ? "pending" : "newer"
        return JSONResponse(Readiness(status: "unavailable", database: "ok", schema: schema), status: .serviceUnavailable)
    }
}

/// Figures read from the database when `/metrics` is scraped, so every instance reports the
/// same, whole-installation values: outbox depth and the age of its oldest message.
struct OperationsMetrics {
    let services: Services

    func refresh(logger: Logger) async {
        let registry = services.metrics
        let depth = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "parley", subsystem: "outbox", metricName: "depth", unitName: "messages",
            helpText: "Messages waiting in the outbox (pending delivery or retry)"))
        let oldest = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "parley", subsystem: "outbox", metricName: "oldest_age", unitName: "seconds",
            helpText: "Age of the oldest message waiting in the outbox (0 when empty)"))
        do {
            let (count, first) = try await services.database.read { db in
                let row = try await db.raw("SELECT count(*) AS n, min(created_at) AS first FROM outbox").first()
                return (try row?.decode(column: "n", as: Int.self) ?? 0, try row?.decode(column: "first", as: Int64?.self))
            }
            depth.set(Double(count))
            let nowMs = services.clock.now().epochMilliseconds
            oldest.set(first.map { max(0, Double(nowMs - $0) / 1000) } ?? 0)
        } catch {
            logger.warning("outbox figures unavailable", metadata: ["error": "\(loggableDescription(of: error))"])
        }
    }
}

extension Services {
    /// Counts a message a contact sent, by channel kind (`parley_messages_received_total`).
    func countInbound(channel kind: String) {
        count("messages_received", help: "Messages contacts sent, by channel", labels: [("channel", kind)])
    }

    /// Counts a webhook refused before anything was stored (`parley_webhooks_refused_total`).
    func countRefusedWebhook(channel kind: String, reason: String) {
        count("webhooks_refused", help: "Webhooks refused, by channel and reason", labels: [("channel", kind), ("reason", reason)])
    }
}
