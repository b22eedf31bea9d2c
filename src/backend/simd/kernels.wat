;; advkit's SIMD kernels for the wasm backend. They run on TF.js's own wasm
;; memory (imported, so no copies); every pointer is a byte offset into it.
;; `scripts/build-simd.ts` compiles this file into `kernels-wasm.ts`, once
;; with an unshared memory import and once with a shared one (the threaded
;; TF.js build); `test/backend/simd.test.ts` checks the two stay in step.
(module
  (import "env" "memory" (memory 1 MEMORY_LIMITS))

  ;; dx[i] = dy[i] where lo ≤ x[i] ≤ hi (lo < x[i] when $open), else 0. NaN x
  ;; gives 0, or NaN when $open (TF.js's step(x) is NaN there). The gradient
  ;; of ClipByValue, and with $open of Relu6 and Relu (lo 0, hi ∞).
  (func (export "clip_grad")
    (param $dy i32) (param $x i32) (param $dx i32) (param $n i32)
    (param $lo f32) (param $hi f32) (param $open i32)
    (local $end i32) (local $stop i32) (local $vlo v128) (local $vhi v128) (local $v v128)
    (local $nan v128) (local $xi f32)
    (local.set $nan (i32x4.splat (i32.const 0x7fc00000)))
    (local.set $vlo (f32x4.splat (local.get $lo)))
    (local.set $vhi (f32x4.splat (local.get $hi)))
    (local.set $stop (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end (i32.add (local.get $x)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (if (local.get $open)
      (then
        (block $done (loop $next
          (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
          (local.set $v (v128.load (local.get $x)))
          (v128.store (local.get $dx)
            (v128.or
              (v128.and (v128.load (local.get $dy))
                (v128.and (f32x4.gt (local.get $v) (local.get $vlo))
                          (f32x4.le (local.get $v) (local.get $vhi))))
              (v128.and (local.get $nan) (f32x4.ne (local.get $v) (local.get $v)))))
          (local.set $x (i32.add (local.get $x) (i32.const 16)))
          (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
          (local.set $dx (i32.add (local.get $dx) (i32.const 16)))
          (br $next))))
      (else
        (block $done (loop $next
          (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
          (local.set $v (v128.load (local.get $x)))
          (v128.store (local.get $dx)
            (v128.and (v128.load (local.get $dy))
              (v128.and (f32x4.ge (local.get $v) (local.get $vlo))
                        (f32x4.le (local.get $v) (local.get $vhi)))))
          (local.set $x (i32.add (local.get $x) (i32.const 16)))
          (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
          (local.set $dx (i32.add (local.get $dx) (i32.const 16)))
          (br $next)))))
    ;; The last n mod 4 elements, one at a time.
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $x) (local.get $stop)))
      (local.set $xi (f32.load (local.get $x)))
      (f32.store (local.get $dx)
        (select (f32.const nan)
          (select (f32.load (local.get $dy)) (f32.const 0)
            (i32.and
              (select (f32.gt (local.get $xi) (local.get $lo))
                      (f32.ge (local.get $xi) (local.get $lo))
                      (local.get $open))
              (f32.le (local.get $xi) (local.get $hi))))
          (i32.and (local.get $open) (f32.ne (local.get $xi) (local.get $xi)))))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
      (local.set $dx (i32.add (local.get $dx) (i32.const 4)))
      (br $next))))

  ;; MaxPoolGrad for 2×2 windows with stride 2 and no padding (NHWC, c a
  ;; multiple of 4): each dy goes to the first element of its window (row-major)
  ;; equal to the window's output y; the rest of the window gets 0. Rows and
  ;; columns no window covers are left as they are (the caller zeroes them).
  (func (export "max_pool_grad_2x2")
    (param $x i32) (param $dy i32) (param $y i32) (param $dx i32)
    (param $nb i32) (param $h i32) (param $w i32) (param $c i32) (param $oh i32) (param $ow i32)
    (local $n i32) (local $oy i32) (local $ox i32) (local $b i32)
    (local $cb i32) (local $row i32) (local $k0 i32) (local $k1 i32) (local $k2 i32) (local $k3 i32)
    (local $v v128) (local $g v128) (local $f0 v128) (local $f1 v128) (local $f2 v128)
    (local $f3 v128) (local $any v128)
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $row (i32.mul (local.get $w) (local.get $cb)))
    (local.set $n (i32.const 0))
    (block $nDone (loop $nNext
      (br_if $nDone (i32.ge_u (local.get $n) (local.get $nb)))
      (local.set $oy (i32.const 0))
      (block $yDone (loop $yNext
        (br_if $yDone (i32.ge_u (local.get $oy) (local.get $oh)))
        ;; k0: byte offset of the window's top-left element in x and dx.
        (local.set $k0 (i32.mul
          (i32.add (i32.mul (local.get $n) (local.get $h)) (i32.shl (local.get $oy) (i32.const 1)))
          (local.get $row)))
        (local.set $ox (i32.const 0))
        (block $xDone (loop $xNext
          (br_if $xDone (i32.ge_u (local.get $ox) (local.get $ow)))
          (local.set $k1 (i32.add (local.get $k0) (local.get $cb)))
          (local.set $k2 (i32.add (local.get $k0) (local.get $row)))
          (local.set $k3 (i32.add (local.get $k2) (local.get $cb)))
          (local.set $b (i32.const 0))
          (block $cDone (loop $cNext
            (br_if $cDone (i32.ge_u (local.get $b) (local.get $cb)))
            (local.set $v (v128.load (local.get $y)))
            (local.set $g (v128.load (local.get $dy)))
            (local.set $f0 (f32x4.ge
              (v128.load (i32.add (local.get $x) (i32.add (local.get $k0) (local.get $b))))
              (local.get $v)))
            (local.set $f1 (v128.andnot (f32x4.ge
              (v128.load (i32.add (local.get $x) (i32.add (local.get $k1) (local.get $b))))
              (local.get $v)) (local.get $f0)))
            (local.set $any (v128.or (local.get $f0) (local.get $f1)))
            (local.set $f2 (v128.andnot (f32x4.ge
              (v128.load (i32.add (local.get $x) (i32.add (local.get $k2) (local.get $b))))
              (local.get $v)) (local.get $any)))
            (local.set $any (v128.or (local.get $any) (local.get $f2)))
            (local.set $f3 (v128.andnot (f32x4.ge
              (v128.load (i32.add (local.get $x) (i32.add (local.get $k3) (local.get $b))))
              (local.get $v)) (local.get $any)))
            (v128.store (i32.add (local.get $dx) (i32.add (local.get $k0) (local.get $b)))
              (v128.and (local.get $g) (local.get $f0)))
            (v128.store (i32.add (local.get $dx) (i32.add (local.get $k1) (local.get $b)))
              (v128.and (local.get $g) (local.get $f1)))
            (v128.store (i32.add (local.get $dx) (i32.add (local.get $k2) (local.get $b)))
              (v128.and (local.get $g) (local.get $f2)))
            (v128.store (i32.add (local.get $dx) (i32.add (local.get $k3) (local.get $b)))
              (v128.and (local.get $g) (local.get $f3)))
            (local.set $y (i32.add (local.get $y) (i32.const 16)))
            (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
            (local.set $b (i32.add (local.get $b) (i32.const 16)))
            (br $cNext)))
          (local.set $k0 (i32.add (local.get $k0) (i32.shl (local.get $cb) (i32.const 1))))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $xNext)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $yNext)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $nNext))))

  ;; MaxPoolGrad for any window, stride and padding (NHWC, c a multiple of 4,
  ;; no dilation): each dy goes to the first element of its window (row-major,
  ;; padding skipped) equal to the window's output y, added to what earlier,
  ;; overlapping windows gave it (the caller zeroes dx). ResNet's 3×3/2 pad-1
  ;; pool, four channels at a time.
  (func (export "max_pool_grad_windows")
    (param $x i32) (param $dy i32) (param $y i32) (param $dx i32)
    (param $nb i32) (param $h i32) (param $w i32) (param $c i32) (param $oh i32) (param $ow i32)
    (param $fh i32) (param $fw i32) (param $sh i32) (param $sw i32) (param $top i32) (param $left i32)
    (local $n i32) (local $oy i32) (local $ox i32) (local $b i32) (local $cb i32)
    (local $i i32) (local $j i32) (local $row i32) (local $col i32) (local $k i32)
    (local $v v128) (local $g v128) (local $f v128) (local $any v128)
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $n (i32.const 0))
    (block $nDone (loop $nNext
      (br_if $nDone (i32.ge_u (local.get $n) (local.get $nb)))
      (local.set $oy (i32.const 0))
      (block $yDone (loop $yNext
        (br_if $yDone (i32.ge_u (local.get $oy) (local.get $oh)))
        (local.set $ox (i32.const 0))
        (block $xDone (loop $xNext
          (br_if $xDone (i32.ge_u (local.get $ox) (local.get $ow)))
          (local.set $b (i32.const 0))
          (block $cDone (loop $cNext
            (br_if $cDone (i32.ge_u (local.get $b) (local.get $cb)))
            (local.set $v (v128.load (local.get $y)))
            (local.set $g (v128.load (local.get $dy)))
            (local.set $any (v128.const i32x4 0 0 0 0))
            (local.set $i (i32.const 0))
            (block $iDone (loop $iNext
              (br_if $iDone (i32.ge_u (local.get $i) (local.get $fh)))
              (local.set $row (i32.sub (i32.add (i32.mul (local.get $oy) (local.get $sh)) (local.get $i))
                (local.get $top)))
              ;; 0 ≤ row < h, as one unsigned comparison.
              (if (i32.lt_u (local.get $row) (local.get $h))
                (then
                  (local.set $j (i32.const 0))
                  (block $jDone (loop $jNext
                    (br_if $jDone (i32.ge_u (local.get $j) (local.get $fw)))
                    (local.set $col (i32.sub
                      (i32.add (i32.mul (local.get $ox) (local.get $sw)) (local.get $j)) (local.get $left)))
                    (if (i32.lt_u (local.get $col) (local.get $w))
                      (then
                        (local.set $k (i32.add (local.get $b) (i32.mul (local.get $cb)
                          (i32.add (i32.mul (i32.add (i32.mul (local.get $n) (local.get $h)) (local.get $row))
                            (local.get $w)) (local.get $col)))))
                        (local.set $f (v128.andnot
                          (f32x4.eq (v128.load (i32.add (local.get $x) (local.get $k))) (local.get $v))
                          (local.get $any)))
                        (local.set $any (v128.or (local.get $any) (local.get $f)))
                        (v128.store (i32.add (local.get $dx) (local.get $k))
                          (f32x4.add (v128.load (i32.add (local.get $dx) (local.get $k)))
                            (v128.and (local.get $g) (local.get $f))))))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (br $jNext)))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $iNext)))
            (local.set $y (i32.add (local.get $y) (i32.const 16)))
            (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
            (local.set $b (i32.add (local.get $b) (i32.const 16)))
            (br $cNext)))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $xNext)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $yNext)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $nNext))))

  ;; out[j] = Σ_r x[r·width + j] (width a multiple of 4), four rows per update
  ;; of the float32 accumulators in `out`.
  (func (export "sum_rows")
    (param $x i32) (param $out i32) (param $rows i32) (param $width i32)
    (local $wb i32) (local $r i32) (local $b i32) (local $p i32)
    (local.set $wb (i32.shl (local.get $width) (i32.const 2)))
    (local.set $b (i32.const 0))
    (block $zDone (loop $zNext
      (br_if $zDone (i32.ge_u (local.get $b) (local.get $wb)))
      (v128.store (i32.add (local.get $out) (local.get $b)) (v128.const i32x4 0 0 0 0))
      (local.set $b (i32.add (local.get $b) (i32.const 16)))
      (br $zNext)))
    (local.set $r (i32.const 0))
    (block $rDone (loop $rNext
      (br_if $rDone (i32.gt_u (i32.add (local.get $r) (i32.const 4)) (local.get $rows)))
      (local.set $b (i32.const 0))
      (block $bDone (loop $bNext
        (br_if $bDone (i32.ge_u (local.get $b) (local.get $wb)))
        (local.set $p (i32.add (local.get $x) (local.get $b)))
        (v128.store (i32.add (local.get $out) (local.get $b))
          (f32x4.add (v128.load (i32.add (local.get $out) (local.get $b)))
            (f32x4.add
              (f32x4.add (v128.load (local.get $p))
                         (v128.load (i32.add (local.get $p) (local.get $wb))))
              (f32x4.add
                (v128.load (i32.add (local.get $p) (i32.shl (local.get $wb) (i32.const 1))))
                (v128.load (i32.add (local.get $p) (i32.mul (local.get $wb) (i32.const 3))))))))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $bNext)))
      (local.set $x (i32.add (local.get $x) (i32.shl (local.get $wb) (i32.const 2))))
      (local.set $r (i32.add (local.get $r) (i32.const 4)))
      (br $rNext)))
    (block $tDone (loop $tNext
      (br_if $tDone (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $b (i32.const 0))
      (block $bDone (loop $bNext
        (br_if $bDone (i32.ge_u (local.get $b) (local.get $wb)))
        (v128.store (i32.add (local.get $out) (local.get $b))
          (f32x4.add (v128.load (i32.add (local.get $out) (local.get $b)))
                     (v128.load (i32.add (local.get $x) (local.get $b)))))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $bNext)))
      (local.set $x (i32.add (local.get $x) (local.get $wb)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $tNext))))

  ;; For each of batches × rows × runs blocks of `len` bytes (a multiple of 4),
  ;; dst = src, or dst += src when $add; each side has its own batch, row and
  ;; run strides in bytes. With 16-byte-multiple blocks: the interleaving of a
  ;; strided convolution's phase outputs into its input gradient. With any
  ;; block: im2col (copy, one filter tap at a time) and col2im (add).
  (func (export "move_blocks")
    (param $src i32) (param $dst i32) (param $batches i32) (param $rows i32) (param $runs i32)
    (param $len i32) (param $srcBatch i32) (param $srcRow i32) (param $srcRun i32)
    (param $dstBatch i32) (param $dstRow i32) (param $dstRun i32) (param $add i32)
    (local $m i32) (local $r i32) (local $k i32) (local $b i32) (local $s i32) (local $d i32)
    (local $vecLen i32)
    (local.set $vecLen (i32.and (local.get $len) (i32.const -16)))
    (local.set $m (i32.const 0))
    (block $mDone (loop $mNext
      (br_if $mDone (i32.ge_u (local.get $m) (local.get $batches)))
      (local.set $r (i32.const 0))
      (block $rDone (loop $rNext
        (br_if $rDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $s (i32.add (local.get $src) (i32.add
          (i32.mul (local.get $m) (local.get $srcBatch)) (i32.mul (local.get $r) (local.get $srcRow)))))
        (local.set $d (i32.add (local.get $dst) (i32.add
          (i32.mul (local.get $m) (local.get $dstBatch)) (i32.mul (local.get $r) (local.get $dstRow)))))
        (local.set $k (i32.const 0))
        (if (i32.eq (local.get $len) (i32.const 4))
          (then
            ;; One float per block (a one-channel image): a plain strided loop.
            (if (local.get $add)
              (then
                (block $kDone (loop $kNext
                  (br_if $kDone (i32.ge_u (local.get $k) (local.get $runs)))
                  (f32.store (local.get $d)
                    (f32.add (f32.load (local.get $d)) (f32.load (local.get $s))))
                  (local.set $s (i32.add (local.get $s) (local.get $srcRun)))
                  (local.set $d (i32.add (local.get $d) (local.get $dstRun)))
                  (local.set $k (i32.add (local.get $k) (i32.const 1)))
                  (br $kNext))))
              (else
                (block $kDone (loop $kNext
                  (br_if $kDone (i32.ge_u (local.get $k) (local.get $runs)))
                  (f32.store (local.get $d) (f32.load (local.get $s)))
                  (local.set $s (i32.add (local.get $s) (local.get $srcRun)))
                  (local.set $d (i32.add (local.get $d) (local.get $dstRun)))
                  (local.set $k (i32.add (local.get $k) (i32.const 1)))
                  (br $kNext))))))
          (else
            (block $kDone (loop $kNext
              (br_if $kDone (i32.ge_u (local.get $k) (local.get $runs)))
              (local.set $b (i32.const 0))
              (block $bDone (loop $bNext
                (br_if $bDone (i32.ge_u (local.get $b) (local.get $vecLen)))
                (v128.store (i32.add (local.get $d) (local.get $b))
                  (select (result v128)
                    (f32x4.add (v128.load (i32.add (local.get $d) (local.get $b)))
                               (v128.load (i32.add (local.get $s) (local.get $b))))
                    (v128.load (i32.add (local.get $s) (local.get $b)))
                    (local.get $add)))
                (local.set $b (i32.add (local.get $b) (i32.const 16)))
                (br $bNext)))
              (block $bDone (loop $bNext
                (br_if $bDone (i32.ge_u (local.get $b) (local.get $len)))
                (f32.store (i32.add (local.get $d) (local.get $b))
                  (select
                    (f32.add (f32.load (i32.add (local.get $d) (local.get $b)))
                             (f32.load (i32.add (local.get $s) (local.get $b))))
                    (f32.load (i32.add (local.get $s) (local.get $b)))
                    (local.get $add)))
                (local.set $b (i32.add (local.get $b) (i32.const 4)))
                (br $bNext)))
              (local.set $s (i32.add (local.get $s) (local.get $srcRun)))
              (local.set $d (i32.add (local.get $d) (local.get $dstRun)))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br $kNext)))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rNext)))
      (local.set $m (i32.add (local.get $m) (i32.const 1)))
      (br $mNext))))

  ;; out[i] = 1 where x[i] > 0, −1 where x[i] < 0, else 0 (0, −0 and NaN),
  ;; as TF.js's Sign on every backend; its wasm kernel is a scalar loop about
  ;; 15 times slower than a clip.
  (func (export "sign")
    (param $x i32) (param $out i32) (param $n i32)
    (local $end i32) (local $stop i32) (local $v v128) (local $one v128) (local $minus v128)
    (local $zero v128) (local $xi f32)
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $minus (f32x4.splat (f32.const -1)))
    (local.set $zero (f32x4.splat (f32.const 0)))
    (local.set $stop (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end (i32.add (local.get $x)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $v (v128.load (local.get $x)))
      (v128.store (local.get $out)
        (v128.or
          (v128.and (local.get $one) (f32x4.gt (local.get $v) (local.get $zero)))
          (v128.and (local.get $minus) (f32x4.lt (local.get $v) (local.get $zero)))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br $next)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $x) (local.get $stop)))
      (local.set $xi (f32.load (local.get $x)))
      (f32.store (local.get $out)
        (select (f32.const 1)
          (select (f32.const -1) (f32.const 0) (f32.lt (local.get $xi) (f32.const 0)))
          (f32.gt (local.get $xi) (f32.const 0))))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br $next))))

  ;; The number of values in x[0 … n) that are not 0 (NaN counts; −0 does not).
  (func (export "count_nonzero") (param $x i32) (param $n i32) (result i32)
    (local $end i32) (local $stop i32) (local $acc v128) (local $count i32)
    (local.set $stop (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end (i32.add (local.get $x)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    ;; Each lane's compare is −1 where nonzero: subtracting counts it.
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $acc (i32x4.sub (local.get $acc)
        (f32x4.ne (v128.load (local.get $x)) (v128.const f32x4 0 0 0 0))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (br $next)))
    (local.set $count (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
      (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $x) (local.get $stop)))
      (local.set $count (i32.add (local.get $count)
        (f32.ne (f32.load (local.get $x)) (f32.const 0))))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (br $next)))
    (local.get $count))

  ;; The input gradient of a convolution from an output gradient that is
  ;; mostly zeros (a max pool's, behind a ReLU): each nonzero dy[n, oy, ox, c]
  ;; adds dy · w[ky, kx, c, :] to dx[n, oy·sh + ky·dh − pt, ox·sw + kx·dw − pl, :].
  ;; $w is the filter rotated by 180° with its channel axes swapped (the dense
  ;; path's, `rotatedFilter`): tap (ky, kx) is at (kh − 1 − ky, kw − 1 − kx),
  ;; and its row for one output channel holds cin contiguous values, cin a
  ;; multiple of 4.
  ;; Per output position, the nonzero channels are listed first in $list
  ;; (pairs: the row's byte offset, the value), then each tap sums them into
  ;; eight accumulators (32 input channels) before touching dx once.
  (func (export "sparse_conv_input_grad")
    (param $dy i32) (param $w i32) (param $dx i32) (param $list i32)
    (param $nb i32) (param $oh i32) (param $ow i32) (param $cout i32)
    (param $ih i32) (param $iw i32) (param $cin i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32)
    (param $dh i32) (param $dw i32) (param $pt i32) (param $pl i32)
    (local $n i32) (local $oy i32) (local $ox i32) (local $c i32) (local $len i32)
    (local $ky i32) (local $kx i32) (local $iy i32) (local $ix i32) (local $l i32)
    (local $p i32) (local $d i32) (local $tap i32) (local $r i32) (local $cb i32)
    (local $rowBytes i32) (local $cinBytes i32) (local $end i32) (local $g v128) (local $gs f32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local.set $cinBytes (i32.shl (local.get $cin) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $cout) (local.get $cinBytes)))
    ;; dx = 0
    (local.set $d (local.get $dx))
    (local.set $end (i32.add (local.get $dx) (i32.mul (local.get $cinBytes)
      (i32.mul (local.get $nb) (i32.mul (local.get $ih) (local.get $iw))))))
    (block $zDone (loop $zNext
      (br_if $zDone (i32.ge_u (local.get $d) (local.get $end)))
      (v128.store (local.get $d) (v128.const i32x4 0 0 0 0))
      (local.set $d (i32.add (local.get $d) (i32.const 16)))
      (br $zNext)))
    (local.set $p (local.get $dy))
    (local.set $n (i32.const 0))
    (block $nDone (loop $nNext
      (br_if $nDone (i32.ge_u (local.get $n) (local.get $nb)))
      (local.set $oy (i32.const 0))
      (block $yDone (loop $yNext
        (br_if $yDone (i32.ge_u (local.get $oy) (local.get $oh)))
        (local.set $ox (i32.const 0))
        (block $xDone (loop $xNext
          (br_if $xDone (i32.ge_u (local.get $ox) (local.get $ow)))
          ;; List this position's nonzero channels.
          (local.set $len (i32.const 0))
          (local.set $c (i32.const 0))
          ;; Without a branch (the zeros fall at random): every channel is
          ;; written at the list's end, which moves on only past a nonzero.
          (block $cDone (loop $cNext
            (br_if $cDone (i32.ge_u (local.get $c) (local.get $cout)))
            (local.set $gs (f32.load (i32.add (local.get $p) (i32.shl (local.get $c) (i32.const 2)))))
            (local.set $r (i32.add (local.get $list) (i32.shl (local.get $len) (i32.const 3))))
            (i32.store (local.get $r) (i32.mul (local.get $c) (local.get $cinBytes)))
            (f32.store offset=4 (local.get $r) (local.get $gs))
            (local.set $len (i32.add (local.get $len) (f32.ne (local.get $gs) (f32.const 0))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $cNext)))
          (if (local.get $len) (then
            (local.set $ky (i32.const 0))
            (block $kyDone (loop $kyNext
              (br_if $kyDone (i32.ge_u (local.get $ky) (local.get $kh)))
              (local.set $iy (i32.sub (i32.add (i32.mul (local.get $oy) (local.get $sh))
                (i32.mul (local.get $ky) (local.get $dh))) (local.get $pt)))
              ;; Unsigned: a negative row is out of range too.
              (if (i32.lt_u (local.get $iy) (local.get $ih)) (then
                (local.set $kx (i32.const 0))
                (block $kxDone (loop $kxNext
                  (br_if $kxDone (i32.ge_u (local.get $kx) (local.get $kw)))
                  (local.set $ix (i32.sub (i32.add (i32.mul (local.get $ox) (local.get $sw))
                    (i32.mul (local.get $kx) (local.get $dw))) (local.get $pl)))
                  (if (i32.lt_u (local.get $ix) (local.get $iw)) (then
                    (local.set $d (i32.add (local.get $dx) (i32.mul (local.get $cinBytes)
                      (i32.add (i32.mul (i32.add (i32.mul (local.get $n) (local.get $ih))
                        (local.get $iy)) (local.get $iw)) (local.get $ix)))))
                    (local.set $tap (i32.add (local.get $w) (i32.mul (local.get $rowBytes)
                      (i32.sub (i32.sub (i32.mul (local.get $kh) (local.get $kw)) (i32.const 1))
                        (i32.add (i32.mul (local.get $ky) (local.get $kw)) (local.get $kx))))))
                    (local.set $cb (i32.const 0))
                    ;; 32 input channels at a time.
                    (block $bDone (loop $bNext
                      (br_if $bDone (i32.gt_u (i32.add (local.get $cb) (i32.const 128))
                        (local.get $cinBytes)))
                      (local.set $a0 (v128.const i32x4 0 0 0 0))
                      (local.set $a1 (v128.const i32x4 0 0 0 0))
                      (local.set $a2 (v128.const i32x4 0 0 0 0))
                      (local.set $a3 (v128.const i32x4 0 0 0 0))
                      (local.set $a4 (v128.const i32x4 0 0 0 0))
                      (local.set $a5 (v128.const i32x4 0 0 0 0))
                      (local.set $a6 (v128.const i32x4 0 0 0 0))
                      (local.set $a7 (v128.const i32x4 0 0 0 0))
                      (local.set $l (local.get $list))
                      (local.set $end (i32.add (local.get $list) (i32.shl (local.get $len) (i32.const 3))))
                      (block $lDone (loop $lNext
                        (br_if $lDone (i32.ge_u (local.get $l) (local.get $end)))
                        (local.set $r (i32.add (i32.add (local.get $tap) (local.get $cb))
                          (i32.load (local.get $l))))
                        (local.set $g (v128.load32_splat offset=4 (local.get $l)))
                        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $g) (v128.load (local.get $r)))))
                        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $g) (v128.load offset=16 (local.get $r)))))
                        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $g) (v128.load offset=32 (local.get $r)))))
                        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $g) (v128.load offset=48 (local.get $r)))))
                        (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $g) (v128.load offset=64 (local.get $r)))))
                        (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (local.get $g) (v128.load offset=80 (local.get $r)))))
                        (local.set $a6 (f32x4.add (local.get $a6) (f32x4.mul (local.get $g) (v128.load offset=96 (local.get $r)))))
                        (local.set $a7 (f32x4.add (local.get $a7) (f32x4.mul (local.get $g) (v128.load offset=112 (local.get $r)))))
                        (local.set $l (i32.add (local.get $l) (i32.const 8)))
                        (br $lNext)))
                      (local.set $r (i32.add (local.get $d) (local.get $cb)))
                      (v128.store (local.get $r) (f32x4.add (v128.load (local.get $r)) (local.get $a0)))
                      (v128.store offset=16 (local.get $r) (f32x4.add (v128.load offset=16 (local.get $r)) (local.get $a1)))
                      (v128.store offset=32 (local.get $r) (f32x4.add (v128.load offset=32 (local.get $r)) (local.get $a2)))
                      (v128.store offset=48 (local.get $r) (f32x4.add (v128.load offset=48 (local.get $r)) (local.get $a3)))
                      (v128.store offset=64 (local.get $r) (f32x4.add (v128.load offset=64 (local.get $r)) (local.get $a4)))
                      (v128.store offset=80 (local.get $r) (f32x4.add (v128.load offset=80 (local.get $r)) (local.get $a5)))
                      (v128.store offset=96 (local.get $r) (f32x4.add (v128.load offset=96 (local.get $r)) (local.get $a6)))
                      (v128.store offset=112 (local.get $r) (f32x4.add (v128.load offset=112 (local.get $r)) (local.get $a7)))
                      (local.set $cb (i32.add (local.get $cb) (i32.const 128)))
                      (br $bNext)))
                    ;; The rest, four channels at a time.
                    (block $bDone (loop $bNext
                      (br_if $bDone (i32.ge_u (local.get $cb) (local.get $cinBytes)))
                      (local.set $a0 (v128.const i32x4 0 0 0 0))
                      (local.set $l (local.get $list))
                      (local.set $end (i32.add (local.get $list) (i32.shl (local.get $len) (i32.const 3))))
                      (block $lDone (loop $lNext
                        (br_if $lDone (i32.ge_u (local.get $l) (local.get $end)))
                        (local.set $a0 (f32x4.add (local.get $a0)
                          (f32x4.mul (v128.load32_splat offset=4 (local.get $l))
                            (v128.load (i32.add (i32.add (local.get $tap) (local.get $cb))
                              (i32.load (local.get $l)))))))
                        (local.set $l (i32.add (local.get $l) (i32.const 8)))
                        (br $lNext)))
                      (local.set $r (i32.add (local.get $d) (local.get $cb)))
                      (v128.store (local.get $r) (f32x4.add (v128.load (local.get $r)) (local.get $a0)))
                      (local.set $cb (i32.add (local.get $cb) (i32.const 16)))
                      (br $bNext)))))
                  (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                  (br $kxNext)))))
              (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
              (br $kyNext)))))
          (local.set $p (i32.add (local.get $p) (i32.shl (local.get $cout) (i32.const 2))))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $xNext)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $yNext)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $nNext))))

  ;; out = min(a, b), or max(a, b) when $max, elementwise over n values: NaN
  ;; where either is NaN, and −0 below +0 (JavaScript's Math.min / Math.max).
  (func (export "min_max")
    (param $a i32) (param $b i32) (param $out i32) (param $n i32) (param $max i32)
    (local $end i32) (local $stop i32)
    (local.set $stop (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end (i32.add (local.get $a)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (v128.store (local.get $out)
        (if (result v128) (local.get $max)
          (then (f32x4.max (v128.load (local.get $a)) (v128.load (local.get $b))))
          (else (f32x4.min (v128.load (local.get $a)) (v128.load (local.get $b))))))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $b (i32.add (local.get $b) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br $next)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $a) (local.get $stop)))
      (f32.store (local.get $out)
        (if (result f32) (local.get $max)
          (then (f32.max (f32.load (local.get $a)) (f32.load (local.get $b))))
          (else (f32.min (f32.load (local.get $a)) (f32.load (local.get $b))))))
      (local.set $a (i32.add (local.get $a) (i32.const 4)))
      (local.set $b (i32.add (local.get $b) (i32.const 4)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br $next))))

  ;; out = lo where x < lo, hi where x > hi, else x (NaN and −0 kept as they
  ;; are: the cpu backend's ClipByValue).
  (func (export "clamp")
    (param $x i32) (param $out i32) (param $n i32) (param $lo f32) (param $hi f32)
    (local $end i32) (local $stop i32) (local $vlo v128) (local $vhi v128) (local $v v128)
    (local $xi f32)
    (local.set $vlo (f32x4.splat (local.get $lo)))
    (local.set $vhi (f32x4.splat (local.get $hi)))
    (local.set $stop (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end (i32.add (local.get $x)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $v (v128.load (local.get $x)))
      (v128.store (local.get $out)
        (v128.bitselect (local.get $vlo)
          (v128.bitselect (local.get $vhi) (local.get $v) (f32x4.gt (local.get $v) (local.get $vhi)))
          (f32x4.lt (local.get $v) (local.get $vlo))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br $next)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $x) (local.get $stop)))
      (local.set $xi (f32.load (local.get $x)))
      (f32.store (local.get $out)
        (select (local.get $lo)
          (select (local.get $hi) (local.get $xi) (f32.gt (local.get $xi) (local.get $hi)))
          (f32.lt (local.get $xi) (local.get $lo))))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br $next))))
)
