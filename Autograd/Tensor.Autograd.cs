using System.Numerics;
using Autograd.Backends;

namespace Autograd;

public sealed partial class Tensor<T>
{
    private bool _requiresGrad;

    /// <summary>Per-pass gradient of a non-leaf tensor; recycled as soon as its node has run.</summary>
    private Storage<T>? _passGrad;

    /// <summary>Where this tensor's gradient starts in <see cref="_passGrad"/> (non-zero for a window of its base's).</summary>
    private int _passGradOffset;

    /// <summary>
    /// True when <see cref="_passGrad"/> is a window of the gradient of the tensor this one is a view of (a reshape or
    /// a contiguous slice): consumers add straight into the base's gradient, so the view's own backward has nothing to do.
    /// </summary>
    private bool _passGradBorrowed;

    /// <summary>True while <see cref="_passGrad"/> was rented but nothing has been written to it yet.</summary>
    private bool _passGradFresh;

    /// <summary>
    /// What few tensors need: a leaf's accumulated gradient and a weight's staged matmul contributions. Kept aside so
    /// that each of a graph's many op results carries one field for them, not two (fewer bytes for the GC per op).
    /// </summary>
    private sealed class Side
    {
        public Tensor<T>? Grad;
        public DeferredWeightGradient<T>? Deferred;
    }

    private Side? _side;

    /// <summary>Matmul weight-gradient contributions staged in this pass (see <see cref="DeferredWeightGradient{T}"/>).</summary>
    private DeferredWeightGradient<T>? Deferred
    {
        get => _side?.Deferred;
        set
        {
            if (value is null && _side is null) return;
            (_side ??= new Side()).Deferred = value;
        }
    }

    /// <summary>Tensors with staged contributions in the current pass, flushed before the pass ends.</summary>
    [ThreadStatic] private static List<Tensor<T>>? t_deferred;

    /// <summary>
    /// dThis += aᵀ·g for a (rows × k) and g (rows × n), this tensor being a (k × n) matmul weight: staged and
    /// computed later as one GEMM together with this weight's other small contributions of the pass.
    /// </summary>
    internal void DeferMatMulGradient(Buffer<T> a, Buffer<T> g, int rows, int k, int n)
    {
        if (Deferred is null || !Deferred.Fits(k, n))
        {
            FlushDeferred();
            Deferred = new DeferredWeightGradient<T>(k, n);
            (t_deferred ??= []).Add(this);
        }
        Deferred.Add(a, g, rows, this);
    }

    /// <summary>Adds everything staged into the gradient (before anything reads it).</summary>
    private void FlushDeferred()
    {
        if (Deferred is not { } d) return;
        Deferred = null;
        d.Flush(this);
        d.Release();
    }

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
    /// <see cref="ZeroGrad"/>; null until a pass first reaches it. Non-leaf tensors keep no gradient.
    /// </summary>
    /// <remarks>
    /// One persistent tensor per leaf, as PyTorch's <c>zero_grad(set_to_none=False)</c>: later passes add into
    /// it and <see cref="ZeroGrad"/> zeroes it in place, so no gradient storage is allocated per step. Copy it
    /// (<see cref="ToArray"/>) to keep a snapshot.
    /// </remarks>
    public Tensor<T>? Grad
    {
        get => _side?.Grad;
        private set
        {
            if (value is null && _side is null) return;
            (_side ??= new Side()).Grad = value;
        }
    }

    /// <summary>Sets the accumulated gradient to zeros, in place (it stays null if no pass has reached this tensor).</summary>
    public void ZeroGrad()
    {
        if (Grad is not { } g) return;
        g._storage.Touch(); // an in-place write: caches of the old contents are stale
        K.Fill(g.Buffer, T.Zero);
    }

    /// <summary>A tensor with the same values (sharing storage) and no history.</summary>
    public Tensor<T> Detach() => new(_shape, _storage, _offset);

    /// <summary>Back-propagates from a single-element tensor, seeding d(self)/d(self) = 1.</summary>
    /// <exception cref="InvalidOperationException">This tensor has more than one element, or does not require grad.</exception>
    /// <exception cref="AnomalyException">Inside <see cref="Tensor.DetectAnomaly"/>, a gradient is NaN or ±∞; every leaf's <see cref="Grad"/> is then as it was before the pass.</exception>
    public void Backward() => Backward(retainGraph: false);

    /// <inheritdoc cref="Backward()"/>
    /// <param name="retainGraph">Keep saved values so the graph can be walked again.</param>
    public void Backward(bool retainGraph)
    {
        if (Length != 1)
            throw new InvalidOperationException($"Backward: needs a single-element output or an explicit gradient, but shape is {ShapeUtil.Format(_shape)}.");
        Run(null, retainGraph);
    }

    /// <summary>Back-propagates <paramref name="gradient"/> = d(loss)/d(this) through the graph.</summary>
    /// <param name="gradient">Same shape as this tensor.</param>
    /// <param name="retainGraph">Keep saved values so the graph can be walked again.</param>
    /// <exception cref="ArgumentException">The gradient's shape differs from this tensor's.</exception>
    /// <exception cref="InvalidOperationException">This tensor does not require grad, or its graph was already released.</exception>
    /// <exception cref="AnomalyException">Inside <see cref="Tensor.DetectAnomaly"/>, a gradient is NaN or ±∞; every leaf's <see cref="Grad"/> is then as it was before the pass.</exception>
    public void Backward(Tensor<T> gradient, bool retainGraph = false)
    {
        ArgumentNullException.ThrowIfNull(gradient);
        if (!ShapeUtil.SameShape(gradient.Shape, Shape))
            throw new ArgumentException($"Backward: gradient shape {ShapeUtil.Format(gradient.Shape)} does not match tensor shape {ShapeUtil.Format(_shape)}.", nameof(gradient));
        Run(gradient, retainGraph);
    }

    /// <summary>Runs the pass from this tensor with d(loss)/d(this) = <paramref name="seed"/> (ones when null).</summary>
    private void Run(Tensor<T>? seed, bool retainGraph)
    {
        if (!RequiresGrad)
            throw new InvalidOperationException("Backward: this tensor does not require grad (no input of its graph has RequiresGrad set, or it was computed under NoGrad).");

        var order = TopologicalOrder();
        int i = order.Count - 1;
        // In anomaly mode a failed pass (an AnomalyException) puts every leaf gradient back as it was; PyTorch
        // leaves them partly accumulated. Outside that mode nothing is copied: a normal pass costs the same.
        var before = Anomaly.Enabled ? LeafGradients(order) : null;
        try
        {
            if (seed is null)
            {
                var g = GradBuffer;
                var k = K;
                using var one = new Scratch<T>(1);
                k.Fill(one.Buffer, T.One);
                k.Copy(one.Buffer, g, accumulate: true);
            }
            else K.Copy(seed.Buffer, GradBuffer, accumulate: true);
            // Reverse post-order: every consumer of a tensor runs before the tensor's own node,
            // so its gradient is complete when it propagates.
            for (; i >= 0; i--) RunNode(order[i], retainGraph);
            // Leaves are read by the caller: their staged contributions go in now.
            if (t_deferred is { } pending)
            {
                foreach (var t in pending) t.FlushDeferred();
                pending.Clear();
            }
        }
        catch when (before is not null)
        {
            RestoreLeafGradients(before);
            throw;
        }
        finally
        {
            if (t_deferred is { Count: > 0 } stalePending)
            {
                foreach (var t in stalePending)
                {
                    t.Deferred?.Release();
                    t.Deferred = null;
                }
                stalePending.Clear();
            }
            // After a failure (e.g. an anomaly) no partial gradient may linger into a later pass.
            for (; i >= 0; i--)
                if (order[i]._passGrad is { } stale)
                {
                    order[i]._passGrad = null;
                    if (!order[i]._passGradBorrowed) K.Recycle(stale);
                    order[i]._passGradBorrowed = false;
                }
            order.Clear();
            t_order = order;
        }
    }

    /// <summary>Every leaf of the pass's graph that requires grad, with a copy of its gradient (null where it has none yet).</summary>
    private static List<(Tensor<T> Leaf, Tensor<T>? Grad)> LeafGradients(List<Tensor<T>> order)
    {
        var seen = new HashSet<Tensor<T>>(ReferenceEqualityComparer.Instance);
        var saved = new List<(Tensor<T>, Tensor<T>?)>();
        foreach (var t in order)
            foreach (var x in t.Creator!.Inputs)
                if (x.Creator is null && x._requiresGrad && seen.Add(x))
                {
                    Tensor<T>? copy = null;
                    if (x.Grad is { } g)
                    {
                        copy = new Tensor<T>(g._shape, K.Allocate(g.Length));
                        K.Copy(g.Buffer, copy.Buffer, accumulate: false);
                    }
                    saved.Add((x, copy));
                }
        return saved;
    }

    /// <summary>Puts the gradients saved by <see cref="LeafGradients"/> back, in place (an optimizer may hold the tensor).</summary>
    private static void RestoreLeafGradients(List<(Tensor<T> Leaf, Tensor<T>? Grad)> saved)
    {
        foreach (var (leaf, grad) in saved)
        {
            if (grad is null) leaf.Grad = null;
            else if (leaf.Grad is { } g)
            {
                g._storage.Touch();
                K.Copy(grad.Buffer, g.Buffer, accumulate: false);
            }
        }
    }

    /// <summary>The gradient storage of the node now running, while nobody has adopted it.</summary>
    [ThreadStatic] private static Storage<T>? t_runningGradient;

    /// <summary>
    /// Takes the running node's whole output gradient <paramref name="g"/> as this tensor's gradient instead of
    /// copying it (an Add passing its gradient through): possible when nothing has been written for this tensor
    /// yet and it is an op result with its own buffer. The node must not write <paramref name="g"/> afterwards.
    /// </summary>
    internal bool TryAdoptGradient(Buffer<T> g)
    {
        if (Creator is null || _passGrad is not null || Creator.ViewOf is not null || !ReferenceEquals(g.Storage, t_runningGradient)
            || g.Offset != 0 || g.Length != Length) return false;
        _passGrad = g.Storage;
        _passGradOffset = 0;
        _passGradFresh = false;
        t_runningGradient = null; // now this tensor's: its own node recycles it
        return true;
    }

    private static void RunNode(Tensor<T> t, bool retainGraph)
    {
        var node = t.Creator!;
        t.FlushDeferred();
        var g = t._passGrad;
        bool borrowed = t._passGradBorrowed;
        t._passGrad = null;
        t._passGradBorrowed = false;
        if (g is null) return; // nothing flowed here (e.g. the seed's graph never used it)
        if (node.Released)
            throw new InvalidOperationException($"Backward: the graph through {node.Name} was already released by an earlier backward pass; pass retainGraph: true to walk it twice.");
        var inputs = node.Inputs;
        var k = K;
        // A view whose gradient was a window of its base's has already delivered it.
        if (!borrowed)
        {
            t_runningGradient = t._passGradOffset == 0 && g.Length == t.Length ? g : null;
            node.Backward(t, new Buffer<T>(g, t._passGradOffset, t.Length));
            bool adopted = t_runningGradient is null && t._passGradOffset == 0 && g.Length == t.Length;
            t_runningGradient = null;
            if (!adopted) k.Recycle(g);
        }
        if (Anomaly.Enabled) CheckGradients(node, inputs);
        if (!retainGraph)
        {
            node.Release();
            // Every reader of t (its consumers' backward, then its own) has run.
            t.ReleaseStorage();
        }
    }

    private static void CheckGradients(Node<T> node, NodeInputs<T> inputs)
    {
        for (int k = 0; k < inputs.Length; k++)
        {
            var x = inputs[k];
            if (!x._requiresGrad) continue;
            Buffer<T>? grad = x.Creator is null
                ? x.Grad?.Buffer
                : (x._passGrad is null ? null : new Buffer<T>(x._passGrad, x._passGradOffset, x.Length));
            if (grad is { } gb && !K.AllFinite(gb))
                throw new AnomalyException(
                    $"Anomaly: the backward of {node.Name} (created at {node.CreationSite ?? "unknown: enable anomaly detection before the forward pass"}) " +
                    $"produced a NaN or infinite gradient for its input {k} of shape {ShapeUtil.Format(x._shape)}; inputs {inputs}.")
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
    internal Buffer<T> GradBuffer
    {
        get
        {
            var b = GradBufferFor(out bool accumulate);
            if (!accumulate) K.Fill(b, T.Zero);
            return b;
        }
    }

    /// <summary>
    /// The gradient buffer for a rule that writes every element with one kernel call: when nothing has been
    /// added yet (<paramref name="accumulate"/> false) its contents are unspecified and the rule overwrites
    /// them, which saves zero-filling every intermediate gradient.
    /// </summary>
    internal Buffer<T> GradBufferFor(out bool accumulate)
    {
        if (Creator is null)
        {
            accumulate = Grad is not null;
            Grad ??= new Tensor<T>(_shape, K.Allocate(Length));
            Grad._storage.Touch(); // the caller is about to write into it: caches of its contents are stale
            return Grad.Buffer;
        }
        if (_passGrad is null)
        {
            if (Creator.ViewOf is { } source && source._requiresGrad)
            {
                // A view's gradient is the matching window of its source's (zero-filled when new).
                var whole = source.GradBuffer;
                _passGrad = whole.Storage;
                _passGradOffset = whole.Offset + (_offset - source._offset);
                _passGradBorrowed = true;
                _passGradFresh = false;
            }
            else
            {
                // Pooled: a non-leaf gradient lives only until its node has run.
                _passGrad = K.Rent(Length);
                _passGradOffset = 0;
                _passGradFresh = true;
            }
        }
        accumulate = !_passGradFresh;
        _passGradFresh = false;
        return new Buffer<T>(_passGrad, _passGradOffset, Length);
    }

    /// <summary>A zero-filled tensor that never comes from the pool (it outlives any graph).</summary>
    internal static Tensor<T> ZerosOutsidePool(int[] shape)
    {
        var k = K;
        var t = new Tensor<T>(shape, k.Allocate(ShapeUtil.Product(shape)));
        k.Fill(t.Buffer, T.Zero);
        return t;
    }

    /// <summary>Attaches <paramref name="node"/> as this tensor's creator. Called by ops only when <see cref="ShouldRecord(Tensor{T})"/>.</summary>
    internal Tensor<T> WithCreator(Node<T> node)
    {
        Creator = node;
        _requiresGrad = true;
        if (Anomaly.Enabled && !K.AllFinite(Buffer))
            throw new AnomalyException(
                $"Anomaly: {node.Name} (created at {node.CreationSite}) produced a NaN or infinite value: output shape {ShapeUtil.Format(_shape)}, inputs {node.Inputs}.")
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
