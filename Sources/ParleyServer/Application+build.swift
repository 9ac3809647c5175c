import Hummingbird
import Logging
import ParleyCore
import ParleyStore

/// The version reported by `/openapi.json` and `parley --version`.
public let parleyVersion = "0.1.0"

/// Builds the router with every route and middleware.
public func buildRouter(services: Services) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: RequestLogMiddleware(registry: services.metrics))
    router.add(middleware: AuthenticationMiddleware(tokens: services.tokens, clock: services.clock))
    let api = APIRoutes(router: router)
    let system = SystemController(services: services)
    system.register(api)
    AuthController(services: services).register(api)
    UsersController(services: services).register(api)
    WorkspaceController(services: services).register(api)
    ChannelsController(services: services).register(api)
    ContactsCSVController(services: services).register(api)
    ContactsController(services: services).register(api)
    ConversationsController(services: services).register(api)
    MessagesController(services: services).register(api)
    WebhookController(services: services).register(api)
    system.registerOpenAPI(api, version: parleyVersion)
    return router
}

/// Builds the Parley application on top of an opened, migrated database, with the outbox
/// worker running beside the HTTP server.
public func buildApplication(services: Services, runWorkers: Bool = true) -> some ApplicationProtocol {
    Application(
        router: buildRouter(services: services),
        configuration: .init(address: .hostname(services.configuration.host, port: services.configuration.port), serverName: "Parley"),
        services: runWorkers ? [OutboxWorker(services: services)] : [],
        logger: services.logger
    )
}
