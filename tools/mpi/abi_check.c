/* Checks the MPICH-ABI constants hard-coded in Autograd.Distributed/Native/MpiNative.cs against mpi.h.
 * Needs libmpich-dev:  mpicc tools/mpi/abi_check.c -o /tmp/abi_check && /tmp/abi_check
 * Prints one line per constant and exits non-zero on any mismatch. Keep the list in step with MpiNative.cs. */
#include <mpi.h>
#include <stdio.h>

static int bad = 0;
static void check(const char *name, long header, long ours)
{
    printf("%-32s mpi.h 0x%08lx  MpiNative 0x%08lx  %s\n", name, header, ours, header == ours ? "ok" : "MISMATCH");
    if (header != ours) bad++;
}
#define CHECK(name, ours) check(#name, (long)(name), (long)(ours))

int main(void)
{
    CHECK(MPI_COMM_WORLD, 0x44000000);
    CHECK(MPI_BYTE, 0x4c00010d);
    CHECK(MPI_FLOAT, 0x4c00040a);
    CHECK(MPI_DOUBLE, 0x4c00080b);
    CHECK(MPI_INT64_T, 0x4c00083a);
    CHECK(MPI_UINT64_T, 0x4c00083e);
    CHECK(MPI_MAX, 0x58000001);
    CHECK(MPI_MIN, 0x58000002);
    CHECK(MPI_SUM, 0x58000003);
    CHECK(MPI_ERRORS_RETURN, 0x54000001);
    CHECK(MPI_THREAD_SERIALIZED, 2);
    CHECK(MPI_SUCCESS, 0);
    CHECK(MPI_MAX_ERROR_STRING, 512);
    CHECK(MPI_MAX_LIBRARY_VERSION_STRING, 8192);
    check("MPI_IN_PLACE", (long)MPI_IN_PLACE, -1L);
    printf("%s (%s)\n", bad ? "MISMATCHES" : "all match", MPICH_VERSION);
    return bad != 0;
}
