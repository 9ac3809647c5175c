import Hummingbird
import HummingbirdCore
import ServiceLifecycle
import HummingbirdWebSocket
import Logging
import NIOCore
import ParleyCore
import ParleyStore

/// The version reported by `/openapi.json` and `parley --version`.
public let parleyVersion = "0.1.0"

/// Builds the router with every route and middleware; the web inbox's files come from
/// `PARLEY_WEB_DIR` when set, otherwise from the copy built into the server.
public func buildRouter(services: Services) throws -> Router<AppRequestContext> {
    try buildRouter(services: services, web: nil)
}

/// Builds the router with every route and middleware.
func buildRouter(services: Services, web: WebAssetSource?) throws -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: ForwardedClientMiddleware(proxies: services.configuration.trustedProxies))
    router.add(middleware: RequestLogMiddleware(registry: services.metrics))
    router.add(middleware: SecurityHeadersMiddleware())
    let web = try web ?? WebAssetSource.fromEnvironment()
    router.add(middleware: WebAppMiddleware(source: web))
    router.add(middleware: AuthenticationMiddleware(tokens: services.tokens, clock: services.clock))
    let api = APIRoutes(router: router)
    let system = SystemController(services: services)
    system.register(api)
    AuthController(services: services).register(api)
    SessionController(services: services).register(api)
    EventsController(services: services, hub: services.eventHub).register(api)
    UsersController(services: services).register(api)
    WorkspaceController(services: services).register(api)
    ChannelsController(services: services).register(api)
    ContactsCSVController(services: services).register(api)
    ContactsController(services: services).register(api)
    ConversationsController(services: services).register(api)
    MessagesController(services: services).register(api)
    ReachController(services: services).register(api)
    AttachmentsController(services: services).register(api)
    WebhookController(services: services).register(api)
    WebchatSecretController(services: services).register(api)
    WidgetPages(services: services, web: web).register(api)
    WidgetController(services: services).register(api)
    WidgetStream(services: services, hub: services.eventHub).register(api)
    WorkflowsController(services: services).register(api)
    WebhookSubscriptionsController(services: services).register(api)
    system.registerOpenAPI(api, version: parleyVersion)
    // Last, so that it runs only where no route matched (see MethodNotAllowedMiddleware).
    router.add(middleware: MethodNotAllowedMiddleware(routes: api.documented.map { ($0.method, $0.path) }))
    return router
}

/// Builds the Parley application on top of an opened, migrated database, with the outbox
/// worker running beside the HTTP server.
public func buildApplication(services: Services, runWorkers: Bool = true,
                             onServerRunning: @escaping @Sendable (any NIOCore.Channel) async -> Void = { _ in }) throws -> some ApplicationProtocol {
    let router = try buildRouter(services: services)
    var workers: [any Service] = [RealtimeService(services: services)]
    if runWorkers { workers += [OutboxWorker(services: services), ProfileWorker(services: services), MediaWorker(services: services)] as [any Service] }
    if runWorkers { workers.append(WorkflowEngine(services: services)) }
    if runWorkers { workers.append(ReachWorker(services: services)) }
    if runWorkers { workers.append(EmailPoller(services: services, interval: services.configuration.emailPollInterval)) }
    if let port = services.configuration.smtpPort { workers.append(EmailListener(services: services, port: port)) }
    return Application(
        router: router,
        server: .parley(webSocketRouter: router, idleTimeout: services.configuration.idleTimeout),
        configuration: .init(address: .hostname(services.configuration.host, port: services.configuration.port), serverName: "Parley",
                             availableConnectionsDelegate: .maximum(services.configuration.connectionLimit(), logger: services.logger)),
        services: workers,
        onServerRunning: onServerRunning,
        logger: services.logger
    )
}
