/** Implementation details of lb-core. Not exported; may change without notice. */
@NullMarked
package io.miniloadbalancer.core.internal;

import org.jspecify.annotations.NullMarked;
