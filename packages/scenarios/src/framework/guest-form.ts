/**
 * The guest a scenario boots, in the form its run asked for
 * (ScenarioRunOptions.loopForm): as written, where the run loop executes its
 * repeats, sequences, polls and calls through its fast paths, or with each of
 * those as the loop of yields it stands for — the reference the fast paths
 * are tested against. Every value of a row is the same in both forms.
 */
import { loopFormImage, type GuestImage } from "@irqlab/guest";

/** `image`, or its loop form when `loopForm` is true. */
export function guestInForm(image: GuestImage, loopForm: boolean | undefined): GuestImage {
  return loopForm === true ? loopFormImage(image) : image;
}
