import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Metrics
import ParleyCore
import ParleyServer
import ParleyStore
import Prometheus

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the Parley server (applies pending migrations first).")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Address to listen on (env PARLEY_HOST; default 127.0.0.1)")
    var host: String?

    @Option(help: "Port to listen on (env PARLEY_PORT; default 8080)")
    var port: Int?

    @Option(name: .customLong("public-url"), help: "URL providers and browsers reach this server at (env PARLEY_PUBLIC_URL; default http://HOST:PORT)")
    var publicURL: String?

    @Option(name: .customLong("smtp-port"), help: "Port of the SMTP listener for inbound email (env PARLEY_SMTP_PORT; default none)")
    var smtpPort: Int?

    @Option(name: .customLong("trusted-proxy"),
            help: "Address or CIDR range of a proxy whose X-Forwarded-For names the client; repeatable (env PARLEY_TRUSTED_PROXIES, comma-separated; default none)")
    var trustedProxies: [String] = []

    @Option(name: .customLong("shutdown-grace"), help: "Seconds a SIGTERM waits for requests and jobs to finish (env PARLEY_SHUTDOWN_GRACE; default 20)")
    var shutdownGrace: Double?

    @Option(name: .customLong("max-connections"),
            help: "Most client connections open at once; more wait to be accepted (env PARLEY_MAX_CONNECTIONS; default what the open-file limit leaves room for)")
    var maxConnections: Int?

    @Option(name: .customLong("idle-timeout"),
            help: "Seconds a connection may stay open without sending a request before it is closed (env PARLEY_IDLE_TIMEOUT; default 75)")
    var idleTimeout: Double?

    @Flag(name: .customLong("allow-private-targets"),
          help: "Let channels' API base URLs and other outbound requests reach loopback and private addresses (env PARLEY_ALLOW_PRIVATE_TARGETS=1; for tests and local stand-ins only)")
    var allowPrivateTargets = false

    func run() async throws {
        let logger = try database.makeLogger()
        let descriptors = DescriptorLimit.raise()
        let host = self.host ?? Environment.value("PARLEY_HOST") ?? "127.0.0.1"
        let port = try self.port ?? Environment.value("PARLEY_PORT").map { raw in
            guard let port = Int(raw) else { throw ValidationError("PARLEY_PORT must be a number") }
            return port
        } ?? 8080
        let bcryptCost = try Environment.value("PARLEY_BCRYPT_COST").map { raw -> UInt8 in
            guard let cost = UInt8(raw), (4...31).contains(cost) else { throw ValidationError("PARLEY_BCRYPT_COST must be 4 to 31") }
            return cost
        } ?? 12
        let retentionDays = try Environment.value("PARLEY_EVENT_RETENTION_DAYS").map { raw -> Double in
            guard let days = Double(raw), days > 0 else { throw ValidationError("PARLEY_EVENT_RETENTION_DAYS must be a positive number of days") }
            return days
        } ?? 7
        var configuration = ServerConfiguration(
            host: host, port: port, publicURL: publicURL ?? Environment.value("PARLEY_PUBLIC_URL"), bcryptCost: bcryptCost,
            eventRetention: retentionDays * 24 * 3600
        )

        configuration.smtpPort = try smtpPort ?? Environment.value("PARLEY_SMTP_PORT").map { raw in
            guard let port = Int(raw), (1...65535).contains(port) else { throw ValidationError("PARLEY_SMTP_PORT must be a port number") }
            return port
        }
        if let raw = Environment.value("PARLEY_EMAIL_POLL_SECONDS") {
            guard let seconds = Double(raw), seconds >= 0.2 else { throw ValidationError("PARLEY_EMAIL_POLL_SECONDS must be at least 0.2") }
            configuration.emailPollInterval = .milliseconds(Int64(seconds * 1000))
        }

        try applyOperationsOptions(to: &configuration)
        if let raw = Environment.value("PARLEY_WORKSPACE_STORAGE_MB") {
            guard let megabytes = Int64(raw), megabytes > 0 else { throw ValidationError("PARLEY_WORKSPACE_STORAGE_MB must be a positive number") }
            configuration.workspaceStorageQuota = megabytes << 20
        }

        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        // Channel credentials are encrypted at rest; rows from before the key are encrypted below.
        let secrets = try SecretKey.load(databaseURL: database.resolvedDatabaseURL)
        CredentialEncryption.install(secrets)
        let blobs = try BlobStores.make(storageURL: Environment.value("PARLEY_STORAGE_URL"), databaseURL: database.resolvedDatabaseURL,
                                        environment: ProcessInfo.processInfo.environment)
        logger.info("attachments stored", metadata: ["store": "\(blobs.summary)"])
        let (db, pool) = try await DatabaseFactory.openForServiceGroup(url: database.resolvedDatabaseURL, logger: logger)
        let services = Services(configuration: configuration, database: db, metrics: registry, blobs: blobs, logger: logger)
        do {
            let publicURL = configuration.publicURL
            let connections = configuration.connectionLimit(descriptors: descriptors)
            let idle = configuration.idleTimeout
            try await runUntilTerminated(pool: pool, services: services) {
                try await prepare(services: services, secrets: secrets)
                logger.info("Parley listening", metadata: [
                    "url": "\(publicURL)", "database": "\(db.kind.rawValue)",
                    "maxConnections": "\(connections)", "openFileLimit": "\(descriptors)", "idleTimeout": "\(idle)",
                ])
                return try buildApplication(services: services)
            }
        } catch {
            await db.shutdown()
            throw error
        }
        await db.shutdown()
    }

    /// Migrates, encrypts credentials stored before the key existed, and makes sure there is a
    /// workspace and an owner who can sign in.
    private func prepare(services: Services, secrets: SecretBox) async throws {
        let logger = services.logger
        try await Migrator(database: services.database, logger: logger).migrate()
        let encrypted = try await ChannelRepository(database: services.database).encryptStoredCredentials(with: secrets)
        if encrypted > 0 { logger.info("encrypted stored channel credentials", metadata: ["channels": "\(encrypted)"]) }
        if let first = try await Bootstrap.ensureWorkspace(
            services: services, email: Environment.value("PARLEY_OWNER_EMAIL"), password: Environment.value("PARLEY_OWNER_PASSWORD")
        ), first.password != nil {
            // Written unbuffered: whoever started the server may be waiting for these lines.
            FileHandle.standardOutput.write(Data("Created workspace \"\(first.workspace.name)\" with owner \(first.owner.email) and the password from PARLEY_OWNER_PASSWORD.\n".utf8))
        }
        if let link = try await Bootstrap.setupLink(services: services) {
            FileHandle.standardOutput.write(Data("""
                The owner \(link.owner.email) has no password yet. Open this link within 24 hours to choose one:

                    \(link.url)

                (a new link is printed at every start until then)

                """.utf8))
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations and exit.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let logger = try database.makeLogger()
        let db = try await DatabaseFactory.open(url: database.resolvedDatabaseURL, logger: logger)
        defer { Task { await db.shutdown() } }
        let migrator = Migrator(database: db, logger: logger)
        let applied = try await migrator.migrate()
        let all = try await migrator.appliedVersions()
        print(applied.isEmpty
              ? "Schema is up to date (version \(all.last ?? 0))."
              : "Applied migrations \(applied.map(String.init).joined(separator: ", ")); schema is at version \(all.last ?? 0).")
        await db.shutdown()
    }
}
