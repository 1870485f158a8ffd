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

/// <summary>A per-thread nesting counter behind the engine's scoped switches; one per tag type.</summary>
internal static class ThreadScope<TTag>
{
    [ThreadStatic] private static int t_depth;

    public static bool Active => t_depth > 0;

    public static IDisposable Enter()
    {
        t_depth++;
        return new Scope();
    }

    private sealed class Scope : IDisposable
    {
        private bool _disposed;
        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            t_depth--;
        }
    }
}

/// <summary>Per-thread switch for graph recording (see <see cref="Tensor.NoGrad"/>).</summary>
internal static class GradMode
{
    private enum NoGradTag { }

    public static bool Enabled => !ThreadScope<NoGradTag>.Active;

    public static IDisposable Disable() => ThreadScope<NoGradTag>.Enter();
}
