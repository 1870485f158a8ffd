using System.Numerics;
using Autograd.Backends;

namespace Autograd;

/// <summary>
/// The record an op leaves on its result: the inputs and the backward rule. Each primitive op
/// subclasses this in its own file, beside its forward.
/// </summary>
internal abstract class Node<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    protected Node(params Tensor<T>[] inputs)
    {
        Inputs = inputs;
        if (Anomaly.Enabled) CreationSite = Anomaly.CaptureSite();
    }

    /// <summary>Where user code created this op; recorded only in anomaly-detection mode.</summary>
    internal string? CreationSite { get; }

    /// <summary>The tensors this op read; the engine walks them to find the graph.</summary>
    internal Tensor<T>[] Inputs { get; private set; }

    /// <summary>Set once the backward pass has freed what this node saved.</summary>
    internal bool Released { get; private set; }

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
        Released = true;
        Inputs = [];
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
