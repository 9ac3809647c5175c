import Foundation
import ParleyCore
import ParleyStore
import ServiceLifecycle
import SQLKit

/// Runs workflows and outgoing webhooks from the events table.
///
/// Each enabled workflow has a cursor in the stream. A round reads the events after it, works
/// out which runs they start (and which waiting questions they answer), and inserts those runs
/// and moves the cursor in one transaction that first locks the cursor row (PostgreSQL
/// `FOR UPDATE SKIP LOCKED`; SQLite's single writer serialises): whoever commits handled the
/// events, and an engine that finds the cursor taken or moved drops its reading. So every event
/// is handled once per workflow, across restarts and several instances. Runs that are due —
/// new, or back from a wait — are then claimed with a lease and stepped through.
public struct WorkflowEngine: Service {
    let services: Services
    let pollInterval: Duration
    /// Events read per workflow and round.
    let batchSize: Int
    /// A run started by a workflow's change may start another workflow, which may start
    /// another: chains deeper than this stop (a workflow never restarts itself at all).
    static let maxDepth = 4

    public init(services: Services, pollInterval: Duration = .milliseconds(250), batchSize: Int = 200) {
        self.services = services
        self.pollInterval = pollInterval
        self.batchSize = batchSize
    }

    var workflows: WorkflowRepository { WorkflowRepository(database: services.database) }
    var runs: WorkflowRunRepository { WorkflowRunRepository(database: services.database) }
    var actions: WorkflowActions { WorkflowActions(database: services.database) }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    // Keep going while there is work; rest only when a round found none.
                    if try await runOnce() > 0 { continue }
                } catch {
                    services.logger.error("workflow round failed", metadata: ["error": "\(loggableDescription(of: error))"])
                }
                try? await Task.sleep(for: pollInterval)
            }
        }
    }

    /// One round: read new events, step through due runs, fan out and deliver webhooks.
    /// Returns how much was done (0 when idle).
    @discardableResult
    public func runOnce() async throws -> Int {
        var done = try await dispatchEvents()
        let due = try await runs.claim(limit: 50, now: services.clock.now())
        let stepper = WorkflowStepRunner(services: services)
        for run in due { await stepper.advance(run) }
        done += due.count
        done += try await WebhookDispatcher(services: services).runOnce()
        return done
    }

    /// Moves every enabled workflow's cursor over the events that arrived.
    func dispatchEvents() async throws -> Int {
        var started = 0
        for workflow in try await workflows.enabled() {
            let consumer = WorkflowRepository.consumer(workflow.id)
            guard let cursor = try await workflows.cursor(consumer) else { continue }
            let batch = try await services.eventFeed.read(after: cursor, workspaceId: workflow.workspaceId, limit: batchSize)
            guard let last = batch.events.last else { continue }
            var starts: [NewWorkflowRun] = []
            var replies: [(contactId: Int64, messageId: Int64, text: String)] = []
            for item in batch.events {
                if let start = try await start(for: item.event, workflow: workflow) { starts.append(start) }
                if let reply = try await reply(in: item.event, workflow: workflow) { replies.append(reply) }
            }
            let now = services.clock.now()
            let (startList, replyList, workflowId) = (starts, replies, workflow.id)
            let applied = try await workflows.advance(consumer, from: cursor, to: last.position, now: now) { db in
                var count = 0
                for start in startList where try await WorkflowRunRepository.insert(on: db, start, at: now) != nil { count += 1 }
                for reply in replyList {
                    try await WorkflowRunRepository.deliverReply(on: db, workflowId: workflowId, contactId: reply.contactId,
                                                                 messageId: reply.messageId, text: reply.text, at: now)
                }
                return count + replyList.count
            }
            // Moving the cursor is progress too, even when no event started anything.
            if let applied { started += max(applied, 1) }
        }
        return started
    }

    struct ConversationPayload: Decodable {
        let conversationId: Int64
        let contactId: Int64
    }

    /// The run an event starts for a workflow, if any.
    func start(for event: Event, workflow: StoredWorkflow) async throws -> NewWorkflowRun? {
        let definition = workflow.definition
        let payload = Data(event.payload.utf8)
        func run(contactId: Int64, conversationId: Int64?, depth: Int = 0) -> NewWorkflowRun {
            NewWorkflowRun(workspaceId: workflow.workspaceId, workflowId: workflow.id, contactId: contactId, conversationId: conversationId,
                           eventId: event.id, oncePerContact: definition.oncePerContact, depth: depth)
        }
        switch (definition.trigger, event.type) {
        case (.conversationOpened, .conversationOpened), (.conversationClosed, .conversationClosed):
            guard let body = try? JSONDecoder().decode(ConversationPayload.self, from: payload) else { return nil }
            return run(contactId: body.contactId, conversationId: body.conversationId)
        case (.contactTagUpdated, .contactUpdated), (.contactFieldUpdated, .contactUpdated):
            guard let change = try? JSONDecoder().decode(ContactChangePayload.self, from: payload) else { return nil }
            // The loop guard: a workflow's own changes never start it again, and chains of
            // workflows starting each other end after a few links.
            if change.workflowId == workflow.id { return nil }
            let depth = change.workflowId == nil ? 0 : (change.depth ?? 0) + 1
            if depth > Self.maxDepth { return nil }
            if definition.trigger == .contactTagUpdated {
                let changed = (change.tagsAdded ?? []) + (change.tagsRemoved ?? [])
                guard !changed.isEmpty else { return nil }
                if let wanted = definition.triggerTags, !wanted.isEmpty {
                    let added = Set((change.tagsAdded ?? []).map { $0.lowercased() })
                    guard wanted.contains(where: { added.contains($0.lowercased()) }) else { return nil }
                }
            } else {
                let changed = change.fieldsChanged ?? []
                guard !changed.isEmpty else { return nil }
                if let wanted = definition.triggerFields, !wanted.isEmpty, !wanted.contains(where: changed.contains) { return nil }
            }
            let conversation = try await services.conversations.latest(contactId: change.contactId, workspaceId: workflow.workspaceId)
            return run(contactId: change.contactId, conversationId: conversation?.id, depth: depth)
        default:
            return nil
        }
    }

    struct MessagePayload: Decodable {
        let messageId: Int64
    }

    /// An inbound message answering a question this workflow may be waiting on.
    func reply(in event: Event, workflow: StoredWorkflow) async throws -> (contactId: Int64, messageId: Int64, text: String)? {
        guard event.type == .messageCreated, workflow.definition.steps.contains(where: { $0.type == .askQuestion }),
              let body = try? JSONDecoder().decode(MessagePayload.self, from: Data(event.payload.utf8)),
              let message = try await actions.inboundMessage(id: body.messageId) else { return nil }
        return (message.contactId, body.messageId, message.text)
    }
}
