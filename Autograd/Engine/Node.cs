using System.Numerics;
using System.Runtime.CompilerServices;
using Autograd.Backends;

namespace Autograd;

/// <summary>
/// The record an op leaves on its result: the inputs and the backward rule. Each primitive op
/// subclasses this in its own file, beside its forward.
/// </summary>
internal abstract class Node<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    // One or two inputs (nearly every op) sit in fields; only ops with more keep an array. A graph of scalar ops
    // records a node per op, and an inputs array beside each would be one more object for the GC to trace.
    private Tensor<T>? _input0, _input1;
    private Tensor<T>[]? _many;

    /// <summary>Creation sites, kept aside (anomaly mode only) so that a node carries no field for them.</summary>
    private static readonly ConditionalWeakTable<Node<T>, string> s_sites = new();

    // Every input is told it has a reader until Release: a caller's Tensor.Dispose waits for it.
    protected Node(Tensor<T> input)
    {
        _input0 = input ?? throw new ArgumentNullException(nameof(input));
        input.AddGraphReader();
        if (Anomaly.Enabled) s_sites.AddOrUpdate(this, Anomaly.CaptureSite());
    }

    protected Node(Tensor<T> a, Tensor<T> b)
    {
        _input0 = a ?? throw new ArgumentNullException(nameof(a));
        _input1 = b ?? throw new ArgumentNullException(nameof(b));
        a.AddGraphReader();
        b.AddGraphReader();
        if (Anomaly.Enabled) s_sites.AddOrUpdate(this, Anomaly.CaptureSite());
    }

    protected Node(Tensor<T>[] inputs)
    {
        _many = inputs ?? throw new ArgumentNullException(nameof(inputs));
        foreach (var x in inputs) x.AddGraphReader();
        if (Anomaly.Enabled) s_sites.AddOrUpdate(this, Anomaly.CaptureSite());
    }

    /// <summary>Where user code created this op; recorded only in anomaly-detection mode.</summary>
    internal string? CreationSite => s_sites.TryGetValue(this, out var site) ? site : null;

    /// <summary>The tensors this op read; the engine walks them to find the graph.</summary>
    internal NodeInputs<T> Inputs => new(_input0, _input1, _many);

    /// <summary>Set once the backward pass has freed what this node saved.</summary>
    /// <remarks>Read off the inputs (a node always has some until released) rather than kept in a field of its own.</remarks>
    internal bool Released => _input0 is null && _many is null;

    /// <summary>
    /// For ops whose result is a view of their one input (same storage, a contiguous window of it): that input.
    /// The engine then hands the result's gradient out as the matching window of the input's gradient, so the
    /// op's backward never copies it.
    /// </summary>
    internal virtual Tensor<T>? ViewOf => null;

    /// <summary>The op's name for messages (e.g. "MatMul").</summary>
    internal abstract string Name { get; }

    /// <summary>
    /// Adds d(loss)/d(input) into <see cref="Tensor{T}.GradBuffer"/> of every input that
    /// requires grad, given <paramref name="gradOutput"/> = d(loss)/d(<paramref name="output"/>),
    /// through the backend's kernels. Must never overwrite: a value used twice receives the sum.
    /// </summary>
    internal abstract void Backward(Tensor<T> output, Buffer<T> gradOutput);

    /// <summary>Drops inputs and saved buffers so they can be collected.</summary>
    internal virtual void Release()
    {
        var inputs = Inputs;
        _input0 = _input1 = null;
        _many = null;
        foreach (var x in inputs) x.RemoveGraphReader();
    }
}

/// <summary>A node's inputs, in order: a view of its fields (no array for one or two inputs).</summary>
internal readonly struct NodeInputs<T>(Tensor<T>? input0, Tensor<T>? input1, Tensor<T>[]? many)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The number of inputs (0 once the node is released).</summary>
    public int Length => many is not null ? many.Length : input1 is not null ? 2 : input0 is not null ? 1 : 0;

    /// <summary>Input <paramref name="index"/>.</summary>
    /// <exception cref="IndexOutOfRangeException">No such input.</exception>
    public Tensor<T> this[int index]
    {
        get
        {
            if (many is not null) return many[index];
            if (index == 0 && input0 is not null) return input0;
            if (index == 1 && input1 is not null) return input1;
            throw new IndexOutOfRangeException($"Node: no input {index} (it has {Length}).");
        }
    }

    public Enumerator GetEnumerator() => new(this);

    /// <summary>The inputs' shapes for messages, e.g. "(2, 3), (3)".</summary>
    public override string ToString()
    {
        var parts = new string[Length];
        for (int i = 0; i < parts.Length; i++) parts[i] = ShapeUtil.Format(this[i].Shape);
        return string.Join(", ", parts);
    }

    public struct Enumerator(NodeInputs<T> inputs)
    {
        private int _index = -1;

        public readonly Tensor<T> Current => inputs[_index];

        public bool MoveNext() => ++_index < inputs.Length;
    }
}

/// <summary>
/// A nesting of scopes that flows like <see cref="AsyncLocal{T}"/>: an <c>await</c> inside a scope continues in it
/// (on whatever thread), code already running on other threads never sees it, and tasks or threads started
/// inside it inherit it (as <see cref="ExecutionContext"/> does). One per tag type.
/// </summary>
internal static class FlowScope<TTag>
{
    private static readonly AsyncLocal<Frame?> s_top = new();

    /// <summary>Whether the innermost scope of this flow switches the tag on.</summary>
    public static bool Active => s_top.Value is { On: true };

    /// <summary>Enters a scope; <paramref name="on"/> false suspends an enclosing one until it is disposed.</summary>
    public static IDisposable Enter(string name, bool on = true)
    {
        var frame = new Frame(s_top.Value, name, on);
        s_top.Value = frame;
        return frame;
    }

    private sealed class Frame(Frame? parent, string name, bool on) : IDisposable
    {
        private bool _disposed;

        public bool On => on;

        public void Dispose()
        {
            if (_disposed) return;
            if (!ReferenceEquals(s_top.Value, this))
                throw new InvalidOperationException(
                    $"{name}: a scope was disposed out of order, or in an async flow it does not belong to (entered in an async method that returned before disposing it?). Dispose scopes innermost first, in the flow that entered them.");
            _disposed = true;
            s_top.Value = parent;
        }
    }
}

/// <summary>The switch for graph recording (see <see cref="Tensor.NoGrad"/>); flows with the async context.</summary>
internal static class GradMode
{
    private enum NoGradTag { }

    public static bool Enabled => !FlowScope<NoGradTag>.Active;

    public static IDisposable Disable() => FlowScope<NoGradTag>.Enter("NoGrad");
}
