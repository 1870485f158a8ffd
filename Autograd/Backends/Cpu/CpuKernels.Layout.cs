using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Autograd.Backends.Cpu;

internal sealed partial class CpuKernels<T>
{
    public void CopyRuns(Buffer<T> source, int sourceStride, Buffer<T> destination, int destinationStride, int count, int run, bool accumulate)
    {
        if (count == 0 || run == 0) return;
        var s = S(source); var d = S(destination);
        for (int r = 0; r < count; r++)
        {
            var src = s.Slice(r * sourceStride, run);
            var dst = d.Slice(r * destinationStride, run);
            if (accumulate) TP.Add(dst, src, dst);
            else src.CopyTo(dst);
        }
    }

    public void Transpose(Buffer<T> source, Buffer<T> destination, int batch, int rows, int cols, bool accumulate)
    {
        var src = S(source); var dst = S(destination);
        int block = rows * cols;
        const int Tile = 32; // keeps both the rows read and the rows written in L1
        for (int off = 0; off < batch * block; off += block)
        {
            var s = src.Slice(off, block);
            var d = dst.Slice(off, block);
            for (int i0 = 0; i0 < rows; i0 += Tile)
                for (int j0 = 0; j0 < cols; j0 += Tile)
                {
                    int i1 = Math.Min(rows, i0 + Tile), j1 = Math.Min(cols, j0 + Tile);
                    for (int i = i0; i < i1; i++)
                        for (int j = j0; j < j1; j++)
                        {
                            if (accumulate) d[j * rows + i] += s[i * cols + j];
                            else d[j * rows + i] = s[i * cols + j];
                        }
                }
        }
    }

    public void Gather(Buffer<T> source, int rowLength, ReadOnlyMemory<int> rowsMemory, Buffer<T> destination)
    {
        if (rowLength == 0) return;
        var rows = rowsMemory.Span;
        var s = S(source); var d = S(destination);
        for (int i = 0; i < rows.Length; i++) s.Slice(rows[i] * rowLength, rowLength).CopyTo(d.Slice(i * rowLength, rowLength));
    }

    public void ScatterAdd(Buffer<T> source, int rowLength, ReadOnlyMemory<int> rowsMemory, Buffer<T> destination)
    {
        if (rowLength == 0) return;
        var rows = rowsMemory.Span;
        var s = S(source); var d = S(destination);
        for (int i = 0; i < rows.Length; i++)
        {
            var dst = d.Slice(rows[i] * rowLength, rowLength);
            TP.Add(dst, s.Slice(i * rowLength, rowLength), dst);
        }
    }
}
