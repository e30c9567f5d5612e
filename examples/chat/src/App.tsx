/**
 * A chat page on `useChat` from @ai-sdk/react. The one line that makes it a Tether chat is the
 * transport: `createTetherChatTransport` instead of `new DefaultChatTransport()`. The rest of
 * this file is what a product adds for several devices: the history from the session, and
 * following what other tabs do (their messages, their answers, their Stop).
 */
import { useChat } from '@ai-sdk/react';
import { createTetherChatTransport, type ChatChange } from '@tether/ai-sdk';
import { useEffect, useMemo, useRef, useState } from 'react';

const params = new URLSearchParams(location.search);
const chatId = params.get('chat') ?? 'chat-demo';
// A capability token, where the node has authentication on (dev mode has it off).
const token = params.get('token') ?? undefined;
const device = `tab-${Math.random().toString(36).slice(2, 8)}`;

export function App() {
  // The page is served with a proxy to the Tether node, so the node is this origin.
  const transport = useMemo(() => createTetherChatTransport({ url: location.origin, token, device }), []);
  const { messages, setMessages, sendMessage, status, stop, resumeStream } = useChat({ id: chatId, transport });
  const [input, setInput] = useState('');
  const [steer, setSteer] = useState('');
  const [notice, setNotice] = useState('');
  const [fence, setFence] = useState('');
  const statusRef = useRef(status);
  statusRef.current = status;
  const resumedRun = useRef<string | undefined>(undefined);

  useEffect(() => {
    let cancelled = false;
    // The history from the session, then the answer in flight (if any), replayed from its start.
    void transport.loadMessages(chatId).then((history) => {
      if (cancelled) return;
      setMessages(history);
      void resumeStream();
    });
    const stopWatching = transport.watch(chatId, (change: ChatChange) => {
      if (change.type === 'user-message') {
        setMessages((current) => (current.some((m) => m.id === change.message.id) ? current : [...current, change.message]));
      } else if (change.type === 'answer-started') {
        if (statusRef.current === 'ready' && resumedRun.current !== change.run) {
          resumedRun.current = change.run;
          void resumeStream();
        }
      } else if (change.type === 'answer-ended' && change.status !== 'complete') {
        setNotice(`The answer was ${change.status}${change.fence ? ` at fence ${change.fence}` : ''}.`);
        if (change.fence) setFence(change.fence);
        // This tab may have let go of the stream before the fence (its own Stop): show the
        // session's version, which ends exactly at the fence.
        void transport.loadMessages(chatId).then((history) => setMessages(history));
      }
    });
    return () => {
      cancelled = true;
      stopWatching();
    };
  }, [transport, setMessages, resumeStream]);

  useEffect(() => () => transport.close(), [transport]);

  const busy = status === 'submitted' || status === 'streaming';
  return (
    // A chat's usual layout: the messages scroll in their own box and the controls stay where they
    // are, so Stop does not move away from the pointer while an answer streams in.
    <main
      style={{
        fontFamily: 'system-ui, sans-serif',
        maxWidth: 760,
        margin: '0 auto',
        padding: '1rem',
        boxSizing: 'border-box',
        height: '100vh',
        display: 'flex',
        flexDirection: 'column',
      }}
    >
      <h1>Tether chat</h1>
      <p>
        Chat <code data-testid="chat-id">{chatId}</code> · this tab is <code>{device}</code> · status{' '}
        <code data-testid="status">{status}</code>
      </p>
      <ol data-testid="messages" style={{ listStyle: 'none', padding: 0, margin: 0, flex: 1, overflowY: 'auto' }}>
        {messages.map((m) => (
          <li key={m.id} data-role={m.role} data-id={m.id} style={{ margin: '0.75rem 0' }}>
            <strong>{m.role === 'user' ? 'You' : 'Agent'}: </strong>
            <span data-testid="text">
              {m.parts.map((p) => (p.type === 'text' ? p.text : '')).join('')}
            </span>
          </li>
        ))}
      </ol>
      {notice && <p data-testid="notice" data-fence={fence}>{notice}</p>}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!input.trim()) return;
          setNotice('');
          setFence('');
          void sendMessage({ text: input });
          setInput('');
        }}
      >
        <input data-testid="input" value={input} onChange={(e) => setInput(e.target.value)} placeholder="Say something" />
        <button data-testid="send" type="submit" disabled={busy}>Send</button>
        <button data-testid="stop" type="button" onClick={() => void stop()} disabled={!busy}>Stop</button>
      </form>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void transport.steer({ chatId, text: steer }).then(
            (r) => setNotice(`Steer accepted at ${r.offset}`),
            (err: Error) => setNotice(`Steer refused: ${err.message}`),
          );
          setSteer('');
        }}
      >
        <input data-testid="steer-input" value={steer} onChange={(e) => setSteer(e.target.value)} placeholder="Steer the answer in flight" />
        <button data-testid="steer" type="submit" disabled={!busy}>Steer</button>
      </form>
    </main>
  );
}
