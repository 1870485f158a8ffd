using System.Numerics;
using System.Runtime.InteropServices;
using Autograd.Nn;

namespace Autograd.Distributed;

/// <summary>Settings of a <see cref="DataParallel{T}"/>.</summary>
public sealed record DataParallelOptions
{
    /// <summary>
    /// Largest message of the gradient all-reduce, in bytes (default 16 MiB): all gradients are packed
    /// into one buffer that is reduced in pieces of at most this size, so a model of a few million
    /// parameters takes one or two calls per step, never one per parameter.
    /// </summary>
    public int BucketBytes { get; init; } = 16 << 20;

    /// <summary>
    /// Every this many <see cref="DataParallel{T}.SynchronizeGradients(double)"/> calls, first check that
    /// all ranks hold bitwise-identical weights (<see cref="DataParallel{T}.VerifyReplicas"/>); 0 (the
    /// default) never checks. A debugging and testing aid: one extra small all-reduce per check.
    /// </summary>
    public int VerifyEvery { get; init; }
}

/// <summary>
/// Data-parallel training over an <see cref="ICommunicator"/> (e.g. MPI), as Horovod and PyTorch's
/// DistributedDataParallel do it: every rank holds a replica of the model and runs forward and backward
/// on its own share of the global batch; <see cref="SynchronizeGradients(double)"/> then gives every
/// rank the gradient of the whole batch, so that clipping and the optimizer step, run on every rank,
/// keep the replicas bitwise identical.
/// </summary>
/// <remarks>
/// <para>A step: <c>optimizer.ZeroGrad(); loss.Backward(); dp.SynchronizeGradients(); GradClip.ClipNorm(...); optimizer.Step();</c>
/// with <c>loss</c> the mean over this rank's rows. Start with <see cref="BroadcastParameters"/> so
/// every replica begins from rank 0's weights. Optimizer state and a recurrent model's carried state
/// stay per rank (the optimizer's state is identical everywhere because its inputs are).</para>
/// <para>Every method here is collective: all ranks must call it, in the same order.</para>
/// <para>Gradients are read with <see cref="Tensor{T}.AsSpan"/> and written back with
/// <see cref="Tensor{T}.CopyFrom(ReadOnlySpan{T})"/>. A parameter no backward pass reached has no gradient (or a zero one);
/// if it has one on some ranks only, it gets one everywhere.</para>
/// </remarks>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class DataParallel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly (string Name, Tensor<T> Parameter)[] _parameters;
    private readonly int[] _offsets;
    private readonly T[] _flat;          // every gradient, then one presence flag per parameter
    private readonly int _elements;
    private readonly int _bucketElements;
    private readonly int _verifyEvery;

    /// <summary>Wraps <paramref name="module"/>'s parameters (<see cref="Module{T}.NamedParameters"/>).</summary>
    /// <inheritdoc cref="DataParallel{T}(ICommunicator, IEnumerable{ValueTuple{string, Tensor{T}}}, DataParallelOptions?)"/>
    public DataParallel(ICommunicator communicator, Module<T> module, DataParallelOptions? options = null)
        : this(communicator, (module ?? throw new ArgumentNullException(nameof(module))).NamedParameters(), options) { }

    /// <summary>
    /// Wraps named parameters: the same names and shapes, in the same order, on every rank (checked here,
    /// collectively). Build lazily created layers (one forward pass) before wrapping them.
    /// </summary>
    /// <exception cref="ArgumentException">No parameters, or a parameter listed twice.</exception>
    /// <exception cref="RankMismatchException">The ranks' parameter names, shapes or element types differ (thrown on every rank).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A bucket smaller than one element, or a negative <see cref="DataParallelOptions.VerifyEvery"/>.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public DataParallel(ICommunicator communicator, IEnumerable<(string Name, Tensor<T> Parameter)> parameters, DataParallelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        ArgumentNullException.ThrowIfNull(parameters);
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"DataParallel: {typeof(T).Name} tensors are not supported (float and double are).");
        options ??= new DataParallelOptions();
        int elementSize = Marshal.SizeOf<T>();
        if (options.BucketBytes < elementSize)
            throw new ArgumentOutOfRangeException(nameof(options), options.BucketBytes, $"DataParallel: BucketBytes must hold at least one element ({elementSize} bytes).");
        ArgumentOutOfRangeException.ThrowIfNegative(options.VerifyEvery, nameof(options));
        _parameters = parameters.ToArray();
        if (_parameters.Length == 0)
            throw new ArgumentException("DataParallel: no parameters (layers create theirs on the first forward pass: run one first).", nameof(parameters));
        if (_parameters.Select(p => p.Parameter).Distinct(ReferenceEqualityComparer.Instance).Count() != _parameters.Length)
            throw new ArgumentException("DataParallel: a parameter is listed twice.", nameof(parameters));

        Communicator = communicator;
        _offsets = new int[_parameters.Length];
        long total = 0;
        var layout = new Fingerprint();
        layout.Add(typeof(T).Name);
        for (int i = 0; i < _parameters.Length; i++)
        {
            var (name, p) = _parameters[i];
            _offsets[i] = (int)total;
            total += p.Length;
            layout.Add(name);
            layout.Add(p.Shape);
        }
        if (total + _parameters.Length > Array.MaxLength)
            throw new ArgumentException($"DataParallel: {total} parameter elements are more than one buffer holds.", nameof(parameters));
        _elements = (int)total;
        _flat = new T[_elements + _parameters.Length];
        _bucketElements = options.BucketBytes / elementSize;
        _verifyEvery = options.VerifyEvery;

        if (!communicator.AllSame([layout.Value])[0])
            throw new RankMismatchException($"DataParallel: the ranks' models differ (parameter names, shapes or element type); rank {communicator.Rank} has {_parameters.Length} parameters, {_elements} elements.");
    }

    /// <summary>The group the gradients are reduced over.</summary>
    public ICommunicator Communicator { get; }

    /// <summary>Parameter elements, summed over all parameters.</summary>
    public int ElementCount => _elements;

    /// <summary>All-reduce calls per step (the buffer is split into buckets of <see cref="DataParallelOptions.BucketBytes"/>).</summary>
    public int MessagesPerStep => (_flat.Length + _bucketElements - 1) / _bucketElements;

    /// <summary>How many times <see cref="SynchronizeGradients(double)"/> has run.</summary>
    public long Synchronizations { get; private set; }

    /// <summary>Copies every parameter's values from rank <paramref name="root"/> to all other ranks.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="root"/> is not a rank.</exception>
    public void BroadcastParameters(int root = 0)
    {
        var values = _flat.AsSpan(0, _elements);
        for (int i = 0; i < _parameters.Length; i++) _parameters[i].Parameter.AsSpan().CopyTo(values[_offsets[i]..]);
        for (int start = 0; start < values.Length; start += _bucketElements)
            Communicator.Broadcast(values.Slice(start, Math.Min(_bucketElements, values.Length - start)), root);
        if (Communicator.Rank == root) return;
        for (int i = 0; i < _parameters.Length; i++)
        {
            var p = _parameters[i].Parameter;
            p.CopyFrom(values.Slice(_offsets[i], p.Length));
        }
    }

    /// <summary>Averages the gradients over the ranks: every rank's gradient becomes the mean of all ranks'.</summary>
    /// <remarks>Right when every rank's loss is a mean over the same number of rows.</remarks>
    /// <inheritdoc cref="SynchronizeGradients(double)"/>
    public void SynchronizeGradients() => SynchronizeGradients(1.0 / Communicator.Size);

    /// <summary>
    /// Replaces every parameter's gradient, on every rank, by <c>Σ_r w_r · g_r</c>: the sum over ranks of
    /// each rank's gradient times its <paramref name="localWeight"/>. For a loss that is a mean over the
    /// rows of the global batch, pass <c>rows on this rank / rows in the global batch</c>; with equal
    /// shares that is <c>1 / Size</c> (<see cref="SynchronizeGradients()"/>). Gradients are packed into one
    /// buffer and all-reduced in place in buckets of <see cref="DataParallelOptions.BucketBytes"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="localWeight"/> is negative or not finite.</exception>
    /// <exception cref="ReplicaDivergenceException">A check due now (<see cref="DataParallelOptions.VerifyEvery"/>) found different weights.</exception>
    public void SynchronizeGradients(double localWeight)
    {
        if (!(localWeight >= 0 && double.IsFinite(localWeight)))
            throw new ArgumentOutOfRangeException(nameof(localWeight), localWeight, "SynchronizeGradients: the weight must be finite and non-negative.");
        if (_verifyEvery > 0 && Synchronizations % _verifyEvery == 0) VerifyReplicas();
        Synchronizations++;

        T w = T.CreateChecked(localWeight);
        var flat = _flat.AsSpan();
        for (int i = 0; i < _parameters.Length; i++)
        {
            var p = _parameters[i].Parameter;
            var segment = flat.Slice(_offsets[i], p.Length);
            if (p.Grad is { } g)
            {
                Scale(g.AsSpan(), w, segment);
                flat[_elements + i] = T.One;
            }
            else
            {
                segment.Clear();
                flat[_elements + i] = T.Zero;
            }
        }

        for (int start = 0; start < flat.Length; start += _bucketElements)
            AllReduceSum(flat.Slice(start, Math.Min(_bucketElements, flat.Length - start)));

        for (int i = 0; i < _parameters.Length; i++)
        {
            // Flags are small integers: exact in float and double.
            if (flat[_elements + i] == T.Zero) continue; // no rank has a gradient for it
            var p = _parameters[i].Parameter;
            var segment = flat.Slice(_offsets[i], p.Length);
            if (p.Grad is { } g) g.CopyFrom(segment);
            else p.Backward(Tensor.FromArray(segment.ToArray(), p.Shape.ToArray())); // a leaf's Backward creates its Grad
        }
    }

    /// <summary>Checks that every rank holds bitwise-identical weights: one all-reduce of a fingerprint per parameter.</summary>
    /// <exception cref="ReplicaDivergenceException">They differ; the message names the parameters (the same on every rank).</exception>
    public void VerifyReplicas()
    {
        var fingerprints = new ulong[_parameters.Length];
        for (int i = 0; i < fingerprints.Length; i++)
        {
            var f = new Fingerprint();
            f.Add(_parameters[i].Parameter.AsSpan());
            fingerprints[i] = f.Value;
        }
        var same = Communicator.AllSame(fingerprints);
        var differing = _parameters.Where((_, i) => !same[i]).Select(p => p.Name).ToArray();
        if (differing.Length > 0)
            throw new ReplicaDivergenceException(
                $"DataParallel: after {Synchronizations} gradient synchronizations the ranks' weights differ in {string.Join(", ", differing.Take(5))}{(differing.Length > 5 ? $" and {differing.Length - 5} more" : "")}.");
    }

    private static void Scale(ReadOnlySpan<T> source, T factor, Span<T> destination)
    {
        if (factor == T.One)
        {
            source.CopyTo(destination);
            return;
        }
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var f = new Vector<T>(factor);
            for (; i <= source.Length - Vector<T>.Count; i += Vector<T>.Count)
                (new Vector<T>(source[i..]) * f).CopyTo(destination[i..]);
        }
        for (; i < source.Length; i++) destination[i] = source[i] * factor;
    }

    private void AllReduceSum(Span<T> values)
    {
        if (typeof(T) == typeof(float)) Communicator.AllReduce(MemoryMarshal.Cast<T, float>(values), ReduceOperation.Sum);
        else Communicator.AllReduce(MemoryMarshal.Cast<T, double>(values), ReduceOperation.Sum);
    }
}
