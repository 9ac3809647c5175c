import Foundation
import Logging
import ParleyChannels
import ParleyCore
import ParleyStore
import ServiceLifecycle

/// The SMTP listener (`--smtp-port`): takes mail addressed to an email channel's address (its
/// `fromAddress`, or any of `inboundAddresses`) and stores it like mail read over IMAP.
struct EmailListener: Service {
    let services: Services
    let port: Int
    let onListening: @Sendable (Int) -> Void

    init(services: Services, port: Int, onListening: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.services = services
        self.port = port
        self.onListening = onListening
    }

    func run() async throws {
        let server = SMTPServer(host: services.configuration.host, port: port, accepts: { address in
            (try? await channels(for: address).isEmpty == false) ?? false
        }, deliver: { _, recipients, message in
            var delivered = Set<Int64>()
            for recipient in recipients {
                for channel in try await channels(for: recipient) where delivered.insert(channel.id).inserted {
                    do {
                        _ = try await EmailIngest(services: services).ingest(message, channel: channel)
                        services.count("emails_received", help: "Emails taken in", labels: [("via", "smtp")])
                    } catch {
                        // The sender keeps the message and tries again later.
                        services.logger.error("could not store an email", metadata: ["channel": "\(channel.id)", "error": "\(loggableDescription(of: error))"])
                        throw MailError.transient("the message could not be stored now")
                    }
                }
            }
        })
        services.logger.info("SMTP listener", metadata: ["port": "\(port)"])
        try await cancelWhenGracefulShutdown {
            try await server.run(onListening: onListening)
        }
    }

    /// The email channels that take mail for `address`.
    func channels(for address: String) async throws -> [ChannelRepository.ProviderConfig] {
        var found: [ChannelRepository.ProviderConfig] = []
        for id in try await services.email.channelIds() {
            guard let config = try await services.channels.providerConfig(channelId: id) else { continue }
            let own = [config.credentials["fromAddress"]] + (config.credentials["inboundAddresses"] ?? "").split(separator: ",").map { String($0) }
            if own.compactMap({ $0?.trimmingCharacters(in: .whitespaces).lowercased() }).contains(address.lowercased()) { found.append(config) }
        }
        return found
    }
}
