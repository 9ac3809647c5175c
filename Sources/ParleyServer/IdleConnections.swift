import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// Closes connections that hold one of the server's limited slots (see ``DescriptorLimit``)
/// without asking anything: one that sends no complete request head within `timeout` of
/// opening, and a kept-alive one that sends none within `timeout` of its last response. A
/// client that vanished without closing (a dropped network, a sleeping laptop) would otherwise
/// keep its descriptor for good, and enough of them leave no room for anyone.
///
/// Between requests Hummingbird's own idle timer does this; it starts only once the first
/// request head has been read, so the first request gets a deadline of its own here. Event
/// streams, once upgraded, are watched by their WebSocket pings instead.
struct IdleConnectionChannel<Inner: ServerChildChannel>: ServerChildChannel {
    typealias Value = Inner.Value
    let inner: Inner
    let timeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            // The deadline reads request parts, so it goes right after the request decoder.
            let decoder = try channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try channel.pipeline.syncOperations.addHandler(FirstRequestDeadline(timeout: timeout), position: .after(decoder))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with the event streams' WebSocket upgrade, closing idle connections after
    /// `idleTimeout` (see ``IdleConnectionChannel``).
    static func parley<Router: HTTPResponderBuilder & _HB_SendableMetatype>(
        webSocketRouter: Router, idleTimeout: Duration
    ) -> HTTPServerBuilder where Router.Responder.Context: WebSocketRequestContext {
        let webSocketResponder = webSocketRouter.buildResponder()
        let timeout = TimeAmount(idleTimeout)
        let configuration = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: .init(idleTimeout: timeout),
            ws: .init(maxFrameSize: 1 << 18)
        )
        return .init { responder in
            IdleConnectionChannel(
                inner: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder, configuration: configuration),
                timeout: timeout
            )
        }
    }
}

/// Closes the connection unless its first request head arrives within `timeout` of opening;
/// leaves the pipeline when it does.
final class FirstRequestDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let isHead = if case .head = unwrapInboundIn(data) { true } else { false }
        context.fireChannelRead(data)
        if isHead {
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    private func start(_ context: ChannelHandlerContext) {
        guard deadline == nil else { return }
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            // Told as the end of the client's input, which the WebSocket upgrade handler
            // answers by closing quietly; a plain close is logged as a failed upgrade, an
            // error line for every such connection. The close covers a pipeline that did not.
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension FirstRequestDeadline: Sendable {}
