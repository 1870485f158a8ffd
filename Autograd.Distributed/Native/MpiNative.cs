using System.Runtime.InteropServices;

namespace Autograd.Distributed.Native;

/// <summary>
/// Raw entry points and handle constants of the MPICH ABI (<c>libmpich.so.12</c>: MPICH ≥ 3.1,
/// Intel MPI, MVAPICH, Cray MPICH), only what data-parallel training needs.
/// </summary>
/// <remarks>
/// <para>In this ABI every handle (communicator, datatype, operation, error handler) is a C <c>int</c> and
/// the built-in ones are compile-time constants, so they are C# constants here. The values were checked
/// against Debian 12's MPICH 4.0.2 <c>mpi.h</c> by <c>tools/mpi/abi_check.c</c>; at start-up
/// <see cref="MpiCommunicator"/> also asks the library for the element size of each datatype it uses.
/// Open MPI (<c>libmpi.so.40</c>) uses pointer handles and a different ABI and is not supported.</para>
/// <para>Sentinels: <c>MPI_IN_PLACE</c> is <c>(void*)-1</c>. <c>count</c> arguments are C <c>int</c>,
/// so callers split larger buffers.</para>
/// <para>Blocking calls must not get <c>[SuppressGCTransition]</c>: they can wait for seconds and the
/// GC must be able to run meanwhile.</para>
/// </remarks>
internal static unsafe partial class MpiNative
{
    /// <summary>SONAME of the MPICH-ABI runtime (Debian package libmpich12).</summary>
    public const string DefaultLibrary = "libmpich.so.12";

    /// <summary>Environment variable naming another MPICH-ABI library (a path or a SONAME, e.g. Intel MPI's libmpi.so.12).</summary>
    public const string LibraryVariable = "AUTOGRAD_MPI_LIBRARY";

    // Communicators.
    public const int MPI_COMM_WORLD = 0x44000000;

    // Datatypes: 0x4c00 | element size << 8 | index.
    public const int MPI_BYTE = 0x4c00010d;
    public const int MPI_FLOAT = 0x4c00040a;
    public const int MPI_DOUBLE = 0x4c00080b;
    public const int MPI_INT64_T = 0x4c00083a;
    public const int MPI_UINT64_T = 0x4c00083e;

    // Reduction operations.
    public const int MPI_MAX = 0x58000001;
    public const int MPI_MIN = 0x58000002;
    public const int MPI_SUM = 0x58000003;

    // Error handlers.
    public const int MPI_ERRORS_RETURN = 0x54000001;

    // Thread levels.
    public const int MPI_THREAD_SERIALIZED = 2;

    public const int MPI_SUCCESS = 0;
    public const int MPI_MAX_ERROR_STRING = 512;
    public const int MPI_MAX_LIBRARY_VERSION_STRING = 8192;

    /// <summary>Pass as the send buffer to reduce in place in the receive buffer.</summary>
    public static readonly void* MPI_IN_PLACE = (void*)-1;

    static MpiNative() => NativeLibrary.SetDllImportResolver(typeof(MpiNative).Assembly, Resolve);

    /// <summary>The library the imports bind to: <see cref="LibraryVariable"/> if set, else <see cref="DefaultLibrary"/>.</summary>
    public static string LibraryName
        => Environment.GetEnvironmentVariable(LibraryVariable) is { Length: > 0 } name ? name : DefaultLibrary;

    /// <summary>Loads <see cref="LibraryName"/> without calling into it; false (and the loader's reason) when it cannot be loaded.</summary>
    public static bool TryLoad(out string? reason)
    {
        try
        {
            NativeLibrary.Free(NativeLibrary.Load(LibraryName, typeof(MpiNative).Assembly, null));
            reason = null;
            return true;
        }
        catch (DllNotFoundException e)
        {
            // The runtime's text lists every probed path over several lines; the first names the cause.
            reason = e.Message.Split('\n', 2)[0].Trim();
            return false;
        }
        catch (BadImageFormatException e)
        {
            reason = e.Message.Split('\n', 2)[0].Trim();
            return false;
        }
    }

    private static IntPtr Resolve(string name, System.Reflection.Assembly assembly, DllImportSearchPath? path)
    {
        if (name != DefaultLibrary) return IntPtr.Zero;
        string wanted = LibraryName;
        // An explicit choice must not silently fall back to the system's libmpich.
        return wanted == DefaultLibrary ? IntPtr.Zero : NativeLibrary.Load(wanted);
    }

    [LibraryImport(DefaultLibrary)] public static partial int MPI_Init_thread(int* argc, byte*** argv, int required, int* provided);
    [LibraryImport(DefaultLibrary)] public static partial int MPI_Finalize();
    [LibraryImport(DefaultLibrary)] public static partial int MPI_Initialized(int* flag);
    [LibraryImport(DefaultLibrary)] public static partial int MPI_Finalized(int* flag);
    [LibraryImport(DefaultLibrary)] public static partial int MPI_Comm_rank(int comm, int* rank);
    [LibraryImport(DefaultLibrary)] public static partial int MPI_Comm_size(int comm, int* size);
    [LibraryImport(DefaultLibrary)] public static partial int MPI_Comm_set_errhandler(int comm, int errhandler);
    [LibraryImport(DefaultLibrary)] public static partial int MPI_Allreduce(void* sendbuf, void* recvbuf, int count, int datatype, int op, int comm);
    [LibraryImport(DefaultLibrary)] public static partial int MPI_Bcast(void* buffer, int count, int datatype, int root, int comm);
    [LibraryImport(DefaultLibrary)] public static partial int MPI_Abort(int comm, int errorcode);
    [LibraryImport(DefaultLibrary)] public static partial int MPI_Type_size(int datatype, int* size);
    [LibraryImport(DefaultLibrary)] public static partial int MPI_Error_string(int errorcode, byte* str, int* resultlen);
    [LibraryImport(DefaultLibrary)] public static partial int MPI_Get_library_version(byte* version, int* resultlen);
}
