using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Text;
using Autograd.Distributed.Native;

namespace Autograd.Distributed;

/// <summary>
/// <c>MPI_COMM_WORLD</c> of an MPICH-ABI library (Debian/Ubuntu: <c>apt-get install mpich</c>):
/// all the processes <c>mpiexec -n N</c> started. <see cref="InitializeWorld"/> calls <c>MPI_Init</c>;
/// <see cref="Dispose"/> calls <c>MPI_Finalize</c>, which every rank must reach.
/// </summary>
/// <remarks>
/// <para>Linux only. The library is <c>libmpich.so.12</c>, or the file or name in the
/// <c>AUTOGRAD_MPI_LIBRARY</c> environment variable (another MPICH-ABI build such as Intel MPI's
/// <c>libmpi.so.12</c>); nothing is loaded until <see cref="InitializeWorld"/> or
/// <see cref="TryLoadLibrary"/>. Errors come back as <see cref="MpiException"/>.</para>
/// <para>Faults, as measured with MPICH 4.0's <c>mpiexec</c> (hydra): when any rank dies or exits
/// without <c>MPI_Finalize</c>, hydra kills the others within a fraction of a second (they see no
/// error). A rank that exits with code 0 without finalizing makes <c>mpiexec</c> return 0, so a rank
/// that fails must call <see cref="Abort"/> with a non-zero code. A rank that never joins a collective
/// hangs the job until <c>MPIEXEC_TIMEOUT</c> seconds (if set) have passed.</para>
/// </remarks>
public sealed unsafe class MpiCommunicator : ICommunicator, IDisposable
{
    private static MpiCommunicator? s_world;

    private MpiCommunicator(int rank, int size)
    {
        Rank = rank;
        Size = size;
    }

    /// <inheritdoc />
    public int Rank { get; }

    /// <inheritdoc />
    public int Size { get; }

    /// <summary>The library loaded (a file or a name), as chosen by <c>AUTOGRAD_MPI_LIBRARY</c>.</summary>
    public static string LibraryName => MpiNative.LibraryName;

    /// <summary>
    /// Rank and size as set by the launcher that started this process, read from the environment before
    /// (and without) MPI: MPICH's <c>PMI_RANK</c>/<c>PMI_SIZE</c> (hydra's mpiexec, Slurm's srun with PMI)
    /// or Open MPI's <c>OMPI_COMM_WORLD_RANK</c>/<c>_SIZE</c>. Null when no launcher started it. (Slurm's
    /// own <c>SLURM_PROCID</c> is not used: a batch script sets it for processes srun did not start.)
    /// </summary>
    public static (int Rank, int Size)? LauncherRankAndSize()
    {
        static int? Get(string name) => int.TryParse(Environment.GetEnvironmentVariable(name), out int v) ? v : null;
        if (Get("PMI_RANK") is int r && Get("PMI_SIZE") is int s) return (r, s);
        if (Get("OMPI_COMM_WORLD_RANK") is int r2 && Get("OMPI_COMM_WORLD_SIZE") is int s2) return (r2, s2);
        return null;
    }

    /// <summary>Whether the MPI library can be loaded; if not, <paramref name="reason"/> is the loader's one-line reason.</summary>
    public static bool TryLoadLibrary([NotNullWhen(false)] out string? reason) => MpiNative.TryLoad(out reason);

    /// <summary>
    /// Initializes MPI (thread level "serialized") and returns the world communicator. Call it once per
    /// process, on every rank; dispose the result at the end (finalizes MPI).
    /// </summary>
    /// <exception cref="MpiUnavailableException">The library cannot be loaded.</exception>
    /// <exception cref="InvalidOperationException">MPI was already initialized or finalized in this process;
    /// the library does not have the MPICH ABI or thread support; or another MPI's launcher started the process.</exception>
    /// <exception cref="MpiException">MPI_Init failed.</exception>
    public static MpiCommunicator InitializeWorld()
    {
        if (!TryLoadLibrary(out string? reason))
            throw new MpiUnavailableException($"cannot load the MPI library {LibraryName}: {reason}");
        if (WasInitialized || s_world is not null)
            throw new InvalidOperationException("MPI was already initialized in this process; it can be initialized only once.");

        int provided;
        Check(MpiNative.MPI_Init_thread(null, null, MpiNative.MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
        // Errors as return codes (exceptions) rather than MPICH's default of aborting the job.
        Check(MpiNative.MPI_Comm_set_errhandler(MpiNative.MPI_COMM_WORLD, MpiNative.MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
        if (provided < MpiNative.MPI_THREAD_SERIALIZED)
            throw new InvalidOperationException($"{LibraryName} provides MPI thread level {provided}; serialized (2) is needed.");
        VerifyAbi();
        int rank, size;
        Check(MpiNative.MPI_Comm_rank(MpiNative.MPI_COMM_WORLD, &rank), "MPI_Comm_rank");
        Check(MpiNative.MPI_Comm_size(MpiNative.MPI_COMM_WORLD, &size), "MPI_Comm_size");
        // E.g. Open MPI's mpirun starting an MPICH program: each process would be a world of its own.
        if (LauncherRankAndSize() is { } launch && launch.Size != size)
            throw new InvalidOperationException($"the launcher started {launch.Size} processes but {LibraryName} sees a world of {size}: start the job with the mpiexec of the same MPI (MPICH's).");
        return s_world = new MpiCommunicator(rank, size);
    }

    /// <summary>Whether MPI was initialized in this process (finalized since, or not). Loads the library.</summary>
    /// <exception cref="DllNotFoundException">The library cannot be loaded (check <see cref="TryLoadLibrary"/> first).</exception>
    public static bool WasInitialized
    {
        get
        {
            int initialized, finalized;
            Check(MpiNative.MPI_Initialized(&initialized), "MPI_Initialized");
            Check(MpiNative.MPI_Finalized(&finalized), "MPI_Finalized");
            return initialized != 0 || finalized != 0;
        }
    }

    /// <summary>The library's version banner, e.g. <c>MPICH Version: 4.0.2 ...</c> (first line).</summary>
    public string LibraryVersion
    {
        get
        {
            var buffer = new byte[MpiNative.MPI_MAX_LIBRARY_VERSION_STRING];
            int length;
            fixed (byte* p = buffer) Check(MpiNative.MPI_Get_library_version(p, &length), "MPI_Get_library_version");
            string first = Encoding.ASCII.GetString(buffer, 0, length).Split('\n')[0].Trim('\0', ' ', '\t');
            return string.Join(' ', first.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries));
        }
    }

    /// <summary>Whether <see cref="Dispose"/> has run.</summary>
    public bool IsFinalized { get; private set; }

    /// <inheritdoc />
    public void AllReduce(Span<float> values, ReduceOperation operation) => AllReduce(values, MpiNative.MPI_FLOAT, operation);

    /// <inheritdoc />
    public void AllReduce(Span<double> values, ReduceOperation operation) => AllReduce(values, MpiNative.MPI_DOUBLE, operation);

    /// <inheritdoc />
    public void AllReduce(Span<long> values, ReduceOperation operation) => AllReduce(values, MpiNative.MPI_INT64_T, operation);

    /// <inheritdoc />
    public void AllReduce(Span<ulong> values, ReduceOperation operation) => AllReduce(values, MpiNative.MPI_UINT64_T, operation);

    /// <inheritdoc />
    public void Broadcast(Span<byte> data, int root)
    {
        ThrowIfFinalized();
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, Size);
        fixed (byte* p = data)
            for (int offset = 0; offset < data.Length; offset += MaxCount)
                Check(MpiNative.MPI_Bcast(p + offset, Math.Min(MaxCount, data.Length - offset), MpiNative.MPI_BYTE, root, MpiNative.MPI_COMM_WORLD), "MPI_Bcast");
    }

    /// <summary>
    /// Ends every rank of the job with <paramref name="errorCode"/> (mpiexec exits with it). For a rank
    /// that cannot go on: the others may be waiting for it in a collective.
    /// </summary>
    [DoesNotReturn]
    public void Abort(int errorCode)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        MpiNative.MPI_Abort(MpiNative.MPI_COMM_WORLD, errorCode);
        // MPI_Abort does not return on MPICH; if some library did, do not run on.
        Environment.Exit(errorCode);
    }

    /// <summary>Finalizes MPI (<c>MPI_Finalize</c>); every rank must call it. Idempotent.</summary>
    public void Dispose()
    {
        if (IsFinalized) return;
        IsFinalized = true;
        Check(MpiNative.MPI_Finalize(), "MPI_Finalize");
    }

    /// <summary>The most elements one MPI call moves (<c>count</c> is a C int); larger buffers go in pieces.</summary>
    internal static int MaxCount { get; set; } = int.MaxValue;

    private void AllReduce<T>(Span<T> values, int datatype, ReduceOperation operation) where T : unmanaged
    {
        ThrowIfFinalized();
        int op = operation switch
        {
            ReduceOperation.Sum => MpiNative.MPI_SUM,
            ReduceOperation.Max => MpiNative.MPI_MAX,
            ReduceOperation.Min => MpiNative.MPI_MIN,
            _ => throw new ArgumentOutOfRangeException(nameof(operation), operation, "AllReduce: unknown operation."),
        };
        fixed (T* p = values)
            for (int offset = 0; offset < values.Length; offset += MaxCount)
                Check(MpiNative.MPI_Allreduce(MpiNative.MPI_IN_PLACE, p + offset, Math.Min(MaxCount, values.Length - offset), datatype, op, MpiNative.MPI_COMM_WORLD), "MPI_Allreduce");
    }

    /// <summary>Guards against a library with another ABI under the same name: element sizes must match ours.</summary>
    private static void VerifyAbi()
    {
        static int Bytes(int datatype)
        {
            int s;
            return MpiNative.MPI_Type_size(datatype, &s) == MpiNative.MPI_SUCCESS ? s : -1;
        }
        if (Bytes(MpiNative.MPI_BYTE) != 1 || Bytes(MpiNative.MPI_FLOAT) != 4 || Bytes(MpiNative.MPI_DOUBLE) != 8
            || Bytes(MpiNative.MPI_INT64_T) != 8 || Bytes(MpiNative.MPI_UINT64_T) != 8)
            throw new InvalidOperationException($"{LibraryName} does not have the MPICH ABI (its datatype sizes differ); Open MPI is not supported.");
    }

    private void ThrowIfFinalized() => ObjectDisposedException.ThrowIf(IsFinalized, this);

    private static void Check(int code, string call)
    {
        if (code == MpiNative.MPI_SUCCESS) return;
        var buffer = new byte[MpiNative.MPI_MAX_ERROR_STRING];
        int length = 0;
        fixed (byte* p = buffer) MpiNative.MPI_Error_string(code, p, &length);
        throw new MpiException(call, code, Encoding.ASCII.GetString(buffer, 0, Math.Clamp(length, 0, buffer.Length)).Trim('\0', ' ', '\n'));
    }
}
