namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise sum with NumPy broadcasting.</summary>
    /// <exception cref="ArgumentNullException">An operand is null.</exception>
    /// <exception cref="ArgumentException">The shapes cannot be broadcast together.</exception>
    public static Tensor<T> operator +(Tensor<T> a, Tensor<T> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return a.Add(b);
    }
    /// <summary>Elementwise difference with NumPy broadcasting.</summary>
    /// <exception cref="ArgumentNullException">An operand is null.</exception>
    /// <exception cref="ArgumentException">The shapes cannot be broadcast together.</exception>
    public static Tensor<T> operator -(Tensor<T> a, Tensor<T> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return a.Subtract(b);
    }
    /// <summary>Elementwise product with NumPy broadcasting.</summary>
    /// <exception cref="ArgumentNullException">An operand is null.</exception>
    /// <exception cref="ArgumentException">The shapes cannot be broadcast together.</exception>
    public static Tensor<T> operator *(Tensor<T> a, Tensor<T> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return a.Multiply(b);
    }
    /// <summary>Elementwise quotient with NumPy broadcasting.</summary>
    /// <exception cref="ArgumentNullException">An operand is null.</exception>
    /// <exception cref="ArgumentException">The shapes cannot be broadcast together.</exception>
    public static Tensor<T> operator /(Tensor<T> a, Tensor<T> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return a.Divide(b);
    }
    /// <summary>Elementwise negation.</summary>
    /// <exception cref="ArgumentNullException">The operand is null.</exception>
    public static Tensor<T> operator -(Tensor<T> a)
    {
        ArgumentNullException.ThrowIfNull(a);
        return a.Negate();
    }

    /// <summary>The elementwise sum with a scalar, which broadcasts as a rank-0 tensor; the result has the tensor's shape.</summary>
    /// <exception cref="ArgumentNullException">The tensor operand is null.</exception>
    public static Tensor<T> operator +(Tensor<T> a, T b)
    {
        ArgumentNullException.ThrowIfNull(a);
        return a.Add(Tensor.Scalar(b));
    }
    /// <summary>The elementwise sum with a scalar, which broadcasts as a rank-0 tensor; the result has the tensor's shape.</summary>
    /// <exception cref="ArgumentNullException">The tensor operand is null.</exception>
    public static Tensor<T> operator +(T a, Tensor<T> b)
    {
        ArgumentNullException.ThrowIfNull(b);
        return Tensor.Scalar(a).Add(b);
    }
    /// <summary>The elementwise difference with a scalar, which broadcasts as a rank-0 tensor; the result has the tensor's shape.</summary>
    /// <exception cref="ArgumentNullException">The tensor operand is null.</exception>
    public static Tensor<T> operator -(Tensor<T> a, T b)
    {
        ArgumentNullException.ThrowIfNull(a);
        return a.Subtract(Tensor.Scalar(b));
    }
    /// <summary>The elementwise difference with a scalar, which broadcasts as a rank-0 tensor; the result has the tensor's shape.</summary>
    /// <exception cref="ArgumentNullException">The tensor operand is null.</exception>
    public static Tensor<T> operator -(T a, Tensor<T> b)
    {
        ArgumentNullException.ThrowIfNull(b);
        return Tensor.Scalar(a).Subtract(b);
    }
    /// <summary>The elementwise product with a scalar, which broadcasts as a rank-0 tensor; the result has the tensor's shape.</summary>
    /// <exception cref="ArgumentNullException">The tensor operand is null.</exception>
    public static Tensor<T> operator *(Tensor<T> a, T b)
    {
        ArgumentNullException.ThrowIfNull(a);
        return a.Multiply(Tensor.Scalar(b));
    }
    /// <summary>The elementwise product with a scalar, which broadcasts as a rank-0 tensor; the result has the tensor's shape.</summary>
    /// <exception cref="ArgumentNullException">The tensor operand is null.</exception>
    public static Tensor<T> operator *(T a, Tensor<T> b)
    {
        ArgumentNullException.ThrowIfNull(b);
        return Tensor.Scalar(a).Multiply(b);
    }
    /// <summary>The elementwise quotient with a scalar, which broadcasts as a rank-0 tensor; the result has the tensor's shape.</summary>
    /// <exception cref="ArgumentNullException">The tensor operand is null.</exception>
    public static Tensor<T> operator /(Tensor<T> a, T b)
    {
        ArgumentNullException.ThrowIfNull(a);
        return a.Divide(Tensor.Scalar(b));
    }
    /// <summary>The elementwise quotient with a scalar, which broadcasts as a rank-0 tensor; the result has the tensor's shape.</summary>
    /// <exception cref="ArgumentNullException">The tensor operand is null.</exception>
    public static Tensor<T> operator /(T a, Tensor<T> b)
    {
        ArgumentNullException.ThrowIfNull(b);
        return Tensor.Scalar(a).Divide(b);
    }
}
