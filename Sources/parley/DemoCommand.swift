import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ParleyCore
import ParleyServer
import ParleySimulator
import ParleyStore
import SQLKit

/// `parley demo`: Parley and the provider simulator together, with a workspace whose contacts
/// sit in every window state on every channel, so every rule can be tried without an account.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run Parley with a demo workspace and a local simulator of every provider.")

    @Option(help: "Address to listen on") var host: String = "127.0.0.1"
    @Option(help: "Port to listen on") var port: Int = 8080
    @Option(name: .customLong("simulator-port"), help: "Port of the provider simulator (0: any free port)") var simulatorPort: Int = 0
    @Option(name: .customLong("shop-port"), help: "Port of the demo shop with the website chat widget") var shopPort: Int = 8090
    @Option(name: .customLong("database-url"), help: "Where to keep the demo data (default: a new SQLite file in a temporary directory)")
    var databaseURL: String?

    static let password = "demo-password"

    func run() async throws {
        var logger = Logger(label: "parley-demo")
        logger.logLevel = .info
        let url = databaseURL ?? "sqlite://" + FileManager.default.temporaryDirectory.appendingPathComponent("parley-demo-\(UUID().uuidString.prefix(8)).sqlite").path
        let database = try await DatabaseFactory.open(url: url, logger: logger)
        try await Migrator(database: database, logger: logger).migrate()
        let simulator = ProviderSimulator()
        let simulatorURL = try await simulator.start(port: simulatorPort)
        var configuration = ServerConfiguration(host: host, port: port, bcryptCost: 10)
        // The demo's providers are simulated on loopback.
        configuration.allowPrivateTargets = true
        let blobs = try BlobStores.make(storageURL: nil, databaseURL: url, environment: [:])
        let services = Services(configuration: configuration, database: database, blobs: blobs, logger: logger)
        let seeded = try await DemoWorkspace(services: services, simulator: simulator, simulatorURL: simulatorURL).create()
        let shop = DemoShop(port: shopPort, parleyURL: services.configuration.publicURL,
                            channel: try await DemoShop.createChannel(services: services, workspaceId: seeded.workspaceId, shopPort: shopPort))
        FileHandle.standardOutput.write(Data("""

            Parley demo: open \(services.configuration.publicURL)/ in a browser   (providers simulated at \(simulatorURL); data in \(url))
            Sign in as \(seeded.logins.joined(separator: ", ")) with password "\(Self.password)".
            Contacts on every channel wrote 5 minutes, 23 hours, 3 days and 8 days ago; WeChat's "Wei (19 sent)" has one
            message left in its window; the Viber channel has 2 free chatbot-initiated messages left this month.
            Rosa Martínez wrote on WhatsApp 3 days ago and Ben closed her conversation: as Ana, choose All → Closed, search
            "rosa", open her: the composer allows only a template; pick order_update, fill it in, send, and she is open and yours.
            (With the API: GET /api/v1/conversations?status=closed&q=rosa, GET /api/v1/contacts/{id}/composer?channel=1, then
            POST /api/v1/contacts/{id}/messages {"channelId":1,"template":{"name":"order_update","language":"es_MX","parameters":["Rosa","A-1001"]}}.)
            Website chat: a demo shop with the chat widget is at \(shop.origin)/ — write there and answer from the web inbox.

            """.utf8))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await shop.application().runService() }
            group.addTask { try await buildApplication(services: services).runService() }
            // Either one stopping (Ctrl-C stops both) ends the demo.
            try await group.next()
            group.cancelAll()
        }
        await simulator.stop()
        await database.shutdown()
    }
}

/// Builds the demo workspace through the same repositories the API uses.
struct DemoWorkspace {
    let services: Services
    let simulator: ProviderSimulator
    let simulatorURL: String

    static let ages: [(label: String, seconds: TimeInterval)] = [("5 min", 300), ("23 h", 23 * 3600), ("3 days", 3 * 86_400), ("8 days", 8 * 86_400)]
    static let names = ["Lucía Fernández", "Jörg Müller", "Rosa Martínez", "Chloé Dubois", "Søren Østergaard", "Ana Núñez", "Mei Chen", "Omar Haddad",
                        "Zoë Brown", "Ángel Pérez", "Noémie Laurent", "Ivan Petrov", "Aiko Tanaka", "Raúl Gómez", "Inés Silva", "Björn Larsson",
                        "Camila Rojas", "François Girard", "Łukasz Nowak", "Emily Clarke", "Hiroshi Sato", "Fatima Benali", "Diego Castro", "Ingrid Berg",
                        "Priya Patel", "Mateo Vargas", "Sofía Herrera", "Lars Nilsson", "Yuki Mori", "Amélie Roux", "Tomás Ortega", "Hannah Becker"]

    func create() async throws -> (workspaceId: Int64, logins: [String]) {
        let now = services.clock.now()
        let hash = try await services.passwords.hash(Demo.password)
        let created = try await services.workspaces.createWithOwner(name: "Parley Demo", ownerEmail: "demo@parley.local", ownerName: "Demo Owner",
                                                                     ownerPasswordHash: hash, at: now)
        let workspaceId = created.workspace.id
        let ana = try await services.users.create(workspaceId: workspaceId, email: "ana@parley.local", name: "Ana (agent)", passwordHash: hash, role: .agent, actorUserId: nil, at: now)
        let ben = try await services.users.create(workspaceId: workspaceId, email: "ben@parley.local", name: "Ben (agent)", passwordHash: hash, role: .agent, actorUserId: nil, at: now)
        _ = try await services.workspaces.updateSettings(workspaceId: workspaceId, settings: WorkspaceSettings(
            closingNoteMode: .optional, closingCategories: ["Sale", "Support", "Spam"], closingLogic: .keep, agentsSeeAll: true), actorUserId: nil, at: now)

        simulator.acceptTelegramToken("demo:telegram")
        simulator.acceptMetaToken("demo-wa", for: .whatsapp)
        simulator.acceptMetaToken("demo-page", for: .messenger)
        simulator.acceptMetaToken("demo-ig", for: .messenger)
        simulator.acceptViberToken("demo-viber")
        simulator.acceptWeChatApp(appId: "wx-demo", secret: "demo-secret")
        simulator.acceptLineToken("demo-line")
        simulator.acceptTwilioAccount(sid: "AC-demo", authToken: "demo-twilio")
        simulator.addWhatsAppTemplate(waba: "WABA-DEMO", name: "order_update", language: "es_MX", body: "Hola {{1}}, tu pedido {{2}} está en camino.")
        simulator.addWhatsAppTemplate(waba: "WABA-DEMO", name: "appointment_reminder", language: "en_US", body: "Hi {{1}}, see you on {{2}}.")
        simulator.addWhatsAppTemplate(waba: "WABA-DEMO", name: "spring_sale", language: "en_US", status: "PENDING", category: "MARKETING", body: "Spring sale!")

        let channels: [(ChannelKind, String, [String: String])] = [
            (.whatsapp, "WhatsApp Sales", ["accessToken": "demo-wa", "phoneNumberId": "1055", "appSecret": "demo-app-secret", "verifyToken": "demo-verify", "wabaId": "WABA-DEMO"]),
            (.messenger, "Facebook Page", ["pageAccessToken": "demo-page", "appSecret": "demo-app-secret", "verifyToken": "demo-verify"]),
            (.instagram, "Instagram", ["pageAccessToken": "demo-ig", "appSecret": "demo-app-secret", "verifyToken": "demo-verify"]),
            (.viber, "Viber Bot", ["authToken": "demo-viber", "senderName": "Parley Demo"]),
            (.wechat, "WeChat Official Account", ["appId": "wx-demo", "appSecret": "demo-secret", "token": "demo-token"]),
            (.telegram, "Telegram Bot", ["botToken": "demo:telegram"]),
            (.line, "LINE", ["channelAccessToken": "demo-line", "channelSecret": "demo-line-secret"]),
            (.sms, "SMS", ["accountSid": "AC-demo", "authToken": "demo-twilio", "from": "+15550100"]),
        ]
        var nameIndex = 0
        // Rosa (WhatsApp, 3 days: template only) can also be reached by SMS, with free text.
        var rosa: (contactId: Int64, phone: String)?
        for (kind, name, credentials) in channels {
            let channel = try await services.channels.create(workspaceId: workspaceId, kind: kind, name: name, credentials: credentials,
                                                             apiBaseUrl: simulatorURL, actorUserId: nil, at: now)
            for (index, age) in Self.ages.enumerated() {
                let person = Self.names[nameIndex % Self.names.count]
                nameIndex += 1
                let external = Self.externalId(kind, index: nameIndex)
                let wrote = now.addingTimeInterval(-age.seconds)
                let result = try await services.inbound.record(
                    InboundMessage(channelId: channel.id, externalId: external, displayName: "\(person)", providerMessageId: "demo-\(kind.rawValue)-\(index)",
                                   providerTimestamp: wrote, text: Self.openers[index % Self.openers.count]),
                    workspaceId: workspaceId, receivedAt: wrote)
                _ = try await services.contacts.update(id: result.contactId, workspaceId: workspaceId, fields: ContactFields(
                    lastName: person.split(separator: " ").dropFirst().joined(separator: " ") + " (\(age.label))",
                    email: .some("\(person.split(separator: " ").first?.lowercased().folding(options: .diacriticInsensitive, locale: nil) ?? "c")\(nameIndex)@example.com"),
                    phone: kind == .sms || kind == .whatsapp ? .some("+" + external) : nil, tags: index == 0 ? ["vip"] : []),
                    actorUserId: nil, at: now)
                tellSimulator(kind, recipient: external, wrote: wrote)
                if kind == .whatsapp, index == 2 { rosa = (result.contactId, "+" + external) }
                if index == 0, let file = DemoMedia.source(kind, simulator: simulator) {
                    var message = InboundMessage(channelId: channel.id, externalId: external, displayName: "\(person)", providerMessageId: "demo-\(kind.rawValue)-file",
                                                 providerTimestamp: wrote.addingTimeInterval(30), text: file.text, contentKind: file.media.kind.rawValue)
                    message.media = [file.media]
                    _ = try await services.inbound.record(message, workspaceId: workspaceId, receivedAt: wrote.addingTimeInterval(30))
                }
                // Older conversations were handled and closed; the 3-day ones by Ben, so that Ana finds them under All + Closed.
                if index >= 2 {
                    _ = try await services.conversations.assign(contactId: result.contactId, workspaceId: workspaceId, actor: nil,
                                                                assigneeId: index == 2 ? ben.id : ana.id, at: now)
                    _ = try await services.conversations.close(contactId: result.contactId, workspaceId: workspaceId, actorUserId: index == 2 ? ben.id : ana.id,
                                                               category: "Support", summary: "Answered", logic: .keep, at: now)
                }
            }
            if kind == .sms, let rosa {
                _ = try await services.contacts.addIdentity(contactId: rosa.contactId, workspaceId: workspaceId, channelId: channel.id,
                                                            externalId: rosa.phone, displayName: nil, at: now)
            }
            if kind == .whatsapp {
                _ = try await services.templates.upsert(workspaceId: workspaceId, channelId: channel.id, name: "order_update", language: "es_MX", category: .utility,
                                                        status: .approved, body: "Hola {{1}}, tu pedido {{2}} está en camino.", providerTemplateId: nil, at: now)
                _ = try await services.templates.upsert(workspaceId: workspaceId, channelId: channel.id, name: "spring_sale", language: "en_US", category: .marketing,
                                                        status: .pending, body: "Spring sale!", providerTemplateId: nil, at: now)
            }
            if kind == .wechat {
                let result = try await services.inbound.record(
                    InboundMessage(channelId: channel.id, externalId: "oWeiDemo19", displayName: "Wei (19 sent)", providerMessageId: "demo-wechat-19",
                                   providerTimestamp: now.addingTimeInterval(-3600), text: "你好"), workspaceId: workspaceId, receivedAt: now)
                try await services.database.transaction { db in
                    try await db.raw("UPDATE contact_identities SET outbound_since_inbound = 19 WHERE contact_id = \(bind: result.contactId)").run()
                }
                tellSimulator(.wechat, recipient: "oWeiDemo19", wrote: now.addingTimeInterval(-3600))
                simulator.setWeChatMessageCount(19, openId: "oWeiDemo19")
            }
            if let provider = Self.profileProvider(kind) {
                // A sender whose message carried no name: the profile worker asks the simulator's profile API for it.
                let external = Self.externalId(kind, index: 9_000 + nameIndex)
                simulator.setProfile(provider, id: external, firstName: "Profile", lastName: "Lookup (\(kind.rawValue))")
                _ = try await services.inbound.record(
                    InboundMessage(channelId: channel.id, externalId: external, displayName: nil, providerMessageId: "demo-\(kind.rawValue)-nameless",
                                   providerTimestamp: now.addingTimeInterval(-600), text: "Hi, who am I?", profileLookup: true),
                    workspaceId: workspaceId, receivedAt: now)
                tellSimulator(kind, recipient: external, wrote: now.addingTimeInterval(-600))
            }
            if kind == .viber {
                let month = WindowPolicy.utcMonth(now)
                try await services.database.transaction { db in
                    try await db.raw("UPDATE channels SET viber_month = \(bind: month), viber_month_count = 9998 WHERE id = \(bind: channel.id)").run()
                }
                simulator.setViberMonthlyUsage(9998, authToken: "demo-viber")
            }
        }
        return (workspaceId, ["demo@parley.local (owner)", "ana@parley.local", "ben@parley.local"])
    }

    static let openers = ["Hola, ¿tienen envío hoy?", "Hi! Is my order on its way?", "Bonjour, une question sur ma facture", "Hallo, ich brauche Hilfe"]

    static func externalId(_ kind: ChannelKind, index: Int) -> String {
        switch kind {
        case .whatsapp, .sms: return "52155\(String(format: "%08d", 10_000_000 + index))"
        case .telegram: return String(900_000 + index)
        case .wechat: return "oDemo\(index)"
        case .line: return "U" + String(repeating: "0", count: 28) + String(format: "%04d", index)
        default: return "demo-\(kind.rawValue)-\(index)"
        }
    }

    /// The simulated provider whose profile API names this kind's senders, if it has one.
    static func profileProvider(_ kind: ChannelKind) -> ProviderSimulator.Provider? {
        switch kind {
        case .line: return .line
        case .messenger, .instagram: return .messenger
        case .viber: return .viber
        case .wechat: return .wechat
        default: return nil
        }
    }

    func tellSimulator(_ kind: ChannelKind, recipient: String, wrote: Date) {
        switch kind {
        case .whatsapp: simulator.contactWrote(.whatsapp, recipient: recipient, at: wrote)
        case .messenger, .instagram: simulator.contactWrote(.messenger, recipient: recipient, at: wrote)
        case .viber: simulator.contactWrote(.viber, recipient: recipient, at: wrote)
        case .wechat: simulator.contactWrote(.wechat, recipient: recipient, at: wrote)
        default: break
        }
    }
}
