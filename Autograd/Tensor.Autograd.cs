using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Autograd;

public sealed partial class Tensor<T>
{
    private bool _requiresGrad;

    /// <summary>Per-pass gradient of a non-leaf tensor; freed as soon as its node has run.</summary>
    private T[]? _passGrad;

    private int _visitMark;
    private static int s_passCounter;

    /// <summary>The op that produced this tensor, or null for a leaf.</summary>
    internal Node<T>? Creator { get; private set; }

    /// <summary>True for tensors not produced by a recorded op (parameters, inputs, detached values).</summary>
    public bool IsLeaf => Creator is null;

    /// <summary>
    /// Whether gradients flow to this tensor. Settable on leaves; an op's result requires grad
    /// when any input does (outside a <see cref="Tensor.NoGrad"/> scope).
    /// </summary>
    /// <exception cref="InvalidOperationException">Set to false on a non-leaf tensor.</exception>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (!value && Creator is not null)
                throw new InvalidOperationException("RequiresGrad: cannot be turned off on a tensor produced by an op; use Detach().");
            _requiresGrad = value;
        }
    }

    /// <summary>
    /// d(output)/d(this) for a leaf, accumulated over every backward pass since the last
    /// <see cref="ZeroGrad"/>; null until a pass reaches it. Non-leaf tensors keep no gradient.
    /// </summary>
    public Tensor<T>? Grad { get; private set; }

    /// <summary>Clears the accumulated gradient (sets <see cref="Grad"/> to null).</summary>
    public void ZeroGrad() => Grad = null;

    /// <summary>A tensor with the same values (sharing storage) and no history.</summary>
    public Tensor<T> Detach() => new(_shape, Data);

    /// <summary>Back-propagates from a single-element tensor, seeding d(self)/d(self) = 1.</summary>
    /// <exception cref="InvalidOperationException">This tensor has more than one element, or does not require grad.</exception>
    public void Backward() => Backward(retainGraph: false);

    /// <inheritdoc cref="Backward()"/>
    /// <param name="retainGraph">Keep saved values so the graph can be walked again.</param>
    public void Backward(bool retainGraph)
    {
        if (Length != 1)
            throw new InvalidOperationException($"Backward: needs a single-element output or an explicit gradient, but shape is {ShapeUtil.Format(_shape)}.");
        var seed = new T[1];
        seed[0] = T.One;
        Run(seed, retainGraph);
    }

    /// <summary>Back-propagates <paramref name="gradient"/> = d(loss)/d(this) through the graph.</summary>
    /// <param name="gradient">Same shape as this tensor.</param>
    /// <param name="retainGraph">Keep saved values so the graph can be walked again.</param>
    /// <exception cref="ArgumentException">The gradient's shape differs from this tensor's.</exception>
    /// <exception cref="InvalidOperationException">This tensor does not require grad, or its graph was already released.</exception>
    public void Backward(Tensor<T> gradient, bool retainGraph = false)
    {
        ArgumentNullException.ThrowIfNull(gradient);
        if (!ShapeUtil.SameShape(gradient.Shape, Shape))
            throw new ArgumentException($"Backward: gradient shape {ShapeUtil.Format(gradient.Shape)} does not match tensor shape {ShapeUtil.Format(_shape)}.", nameof(gradient));
        Run(gradient.Span.ToArray(), retainGraph);
    }

    private void Run(T[] seed, bool retainGraph)
    {
        if (!RequiresGrad)
            throw new InvalidOperationException("Backward: this tensor does not require grad (no input of its graph has RequiresGrad set, or it was computed under NoGrad).");

        var order = TopologicalOrder();
        int i = order.Count - 1;
        try
        {
            TP.Add(GradTarget, seed.AsSpan(0, Length), GradTarget);
            // Reverse post-order: every consumer of a tensor runs before the tensor's own node,
            // so its gradient is complete when it propagates.
            for (; i >= 0; i--) RunNode(order[i], retainGraph);
        }
        finally
        {
            // After a failure (e.g. an anomaly) no partial gradient may linger into a later pass.
            for (; i >= 0; i--)
                if (order[i]._passGrad is { } stale)
                {
                    order[i]._passGrad = null;
                    BufferPool<T>.Return(stale);
                }
            order.Clear();
            t_order = order;
        }
    }

    private static void RunNode(Tensor<T> t, bool retainGraph)
    {
        var node = t.Creator!;
        var g = t._passGrad;
        t._passGrad = null;
        if (g is null) return; // nothing flowed here (e.g. the seed's graph never used it)
        if (node.Released)
            throw new InvalidOperationException($"Backward: the graph through {node.Name} was already released by an earlier backward pass; pass retainGraph: true to walk it twice.");
        var inputs = node.Inputs;
        node.Backward(t, g.AsSpan(0, t.Length));
        if (Anomaly.Enabled) CheckGradients(node, inputs);
        BufferPool<T>.Return(g);
        if (!retainGraph)
        {
            node.Release();
            // Every reader of t (its consumers' backward, then its own) has run.
            t.ReturnPooledBuffer();
        }
    }

    private static void CheckGradients(Node<T> node, Tensor<T>[] inputs)
    {
        for (int k = 0; k < inputs.Length; k++)
        {
            var x = inputs[k];
            if (!x._requiresGrad) continue;
            ReadOnlySpan<T> grad = x.Creator is null
                ? (x.Grad is null ? default : x.Grad.Span)
                : (x._passGrad is null ? default : x._passGrad.AsSpan(0, x.Length));
            if (!Anomaly.AllFinite<T>(grad))
                throw new AnomalyException(
                    $"Anomaly: the backward of {node.Name} (created at {node.CreationSite ?? "unknown: enable anomaly detection before the forward pass"}) " +
                    $"produced a NaN or infinite gradient for its input {k} of shape {ShapeUtil.Format(x._shape)}; inputs {string.Join(", ", inputs.Select(i => ShapeUtil.Format(i._shape)))}.")
                { Op = node.Name, CreationSite = node.CreationSite };
        }
    }

    /// <summary>Non-leaf tensors reachable from this one, inputs before consumers. Iterative: no recursion depth limit.</summary>
    private List<Tensor<T>> TopologicalOrder()
    {
        int mark = Interlocked.Increment(ref s_passCounter);
        // Reused per thread: a 100,000-node graph would otherwise regrow both on every pass.
        var order = t_order ?? new List<Tensor<T>>();
        t_order = null;
        if (Creator is null) return order;
        var stack = t_stack ?? new Stack<(Tensor<T> Tensor, int Next)>();
        t_stack = null;
        _visitMark = mark;
        stack.Push((this, 0));
        while (stack.Count > 0)
        {
            var (t, next) = stack.Pop();
            var inputs = t.Creator!.Inputs;
            // Find the next unvisited input that has history; descend into it.
            while (next < inputs.Length)
            {
                var x = inputs[next++];
                if (x.Creator is not null && x._requiresGrad && x._visitMark != mark)
                {
                    x._visitMark = mark;
                    stack.Push((t, next));
                    stack.Push((x, 0));
                    goto Continue;
                }
            }
            order.Add(t);
        Continue:;
        }
        t_stack = stack;
        return order;
    }

    [ThreadStatic] private static List<Tensor<T>>? t_order;
    [ThreadStatic] private static Stack<(Tensor<T> Tensor, int Next)>? t_stack;

    /// <summary>
    /// The buffer a backward rule adds this tensor's gradient into: the persistent
    /// <see cref="Grad"/> for a leaf, a per-pass buffer otherwise. Zero-filled when first created.
    /// </summary>
    internal Span<T> GradTarget
    {
        get
        {
            if (Creator is null)
            {
                Grad ??= new Tensor<T>(_shape);
                return Grad.Span;
            }
            if (_passGrad is null)
            {
                // Pooled: a non-leaf gradient lives only until its node has run.
                _passGrad = BufferPool<T>.Rent(Math.Max(Length, 1));
            }
            return _passGrad.AsSpan(0, Length);
        }
    }

    /// <summary>Attaches <paramref name="node"/> as this tensor's creator. Called by ops only when <see cref="ShouldRecord(Tensor{T})"/>.</summary>
    internal Tensor<T> WithCreator(Node<T> node)
    {
        Creator = node;
        _requiresGrad = true;
        if (Anomaly.Enabled && !Anomaly.AllFinite<T>(Span))
            throw new AnomalyException(
                $"Anomaly: {node.Name} (created at {node.CreationSite}) produced a NaN or infinite value: output shape {ShapeUtil.Format(_shape)}, inputs {string.Join(", ", node.Inputs.Select(i => ShapeUtil.Format(i._shape)))}.")
            { Op = node.Name, CreationSite = node.CreationSite };
        return this;
    }

    /// <summary>Whether an op reading these inputs must record itself.</summary>
    internal static bool ShouldRecord(Tensor<T> a) => a._requiresGrad && GradMode.Enabled;

    /// <inheritdoc cref="ShouldRecord(Tensor{T})"/>
    internal static bool ShouldRecord(Tensor<T> a, Tensor<T> b) => (a._requiresGrad || b._requiresGrad) && GradMode.Enabled;

    /// <inheritdoc cref="ShouldRecord(Tensor{T})"/>
    internal static bool ShouldRecord(Tensor<T>[] inputs)
    {
        if (!GradMode.Enabled) return false;
        foreach (var t in inputs) if (t._requiresGrad) return true;
        return false;
    }
}
